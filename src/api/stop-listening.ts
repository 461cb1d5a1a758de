// Stopping an HTTP server without letting one client hold the stop: the API's and the guard's
// close and the witness's SIGTERM use it.
import type { ServerType } from '@hono/node-server';
import type { Server as HttpServer } from 'node:http';

/** How long requests in flight get to finish when a server stops, before their sockets are cut. */
export const CLOSE_GRACE_MS = 10_000;

/**
 * Stops accepting connections and resolves once every connection has ended. `server.close()`
 * alone waits for every socket that is not idle at that moment: a client that sent half a request,
 * or left a response unread (seen in CI: a test's fetch that never read its bodies held the guard's
 * shutdown for a minute, in 5 of 15 runs of a stress loop). Idle sockets are closed every 50 ms, so
 * a request in flight finishes and its socket closes right after; after `graceMs` every socket is cut.
 */
export function stopListening(server: ServerType, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const http = server as Partial<Pick<HttpServer, 'closeIdleConnections' | 'closeAllConnections'>>;
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
    const cut = setTimeout(() => http.closeAllConnections?.(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}

export interface TrackedHandlers<A extends unknown[]> {
  /** The same fetch handler, counting the answers still pending. */
  readonly fetch: (request: Request, ...rest: A) => Response | Promise<Response>;
  /** Resolves once every handler that is running now has returned (or failed). */
  settled(): Promise<void>;
}

/**
 * Wraps a server's fetch handler so that its close can wait for the handlers still running: one
 * whose socket was cut after the grace runs on until it notices, and must not find the ledger or
 * the journals closed under it. Answers ready at once are passed through untouched (and keep
 * @hono/node-server's fast path).
 */
export function trackHandlers<A extends unknown[]>(fetch: (request: Request, ...rest: A) => Response | Promise<Response>): TrackedHandlers<A> {
  const running = new Set<Promise<Response>>();
  return {
    fetch: (request, ...rest) => {
      const answer = fetch(request, ...rest);
      if (!(answer instanceof Promise)) return answer;
      running.add(answer);
      const done = () => running.delete(answer);
      answer.then(done, done);
      return answer;
    },
    settled: () => Promise.allSettled([...running]).then(() => undefined),
  };
}
