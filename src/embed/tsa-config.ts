// Which TSA seals an embedding's commitment: --tsa URL (with --tsa-ca FILE), else the home's
// config.json "tsa": { "url", "ca"? }, else none (the seal is the log's signed checkpoint alone).
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readHomeConfig } from '../home/index.js';
import { readCertificates } from '../tsa/index.js';
import type { EmbedTsa } from './types.js';

export function resolveEmbedTsa(homeDir: string, flag?: { url?: string; ca?: string }): EmbedTsa | undefined {
  const configured = readHomeConfig(homeDir).tsa;
  const url = flag?.url ?? configured?.url;
  if (!url) return undefined;
  // A relative "ca" in config.json is relative to the home folder.
  const ca = flag?.url ? flag.ca : configured?.ca && !isAbsolute(configured.ca) ? join(homeDir, configured.ca) : configured?.ca;
  return { url, ...(ca ? { caCerts: readCertificates(readFileSync(ca), ca) } : {}) };
}
