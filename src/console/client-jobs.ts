// Browser code that follows a job (evidence export, audit) live: it polls the console's job
// status route, writes the phase into a live region, and reloads the page once the job ends so
// the server renders its result and download links.
export const JOBS_JS = String.raw`
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function describeJob(j) {
  const phase = j.progress && typeof j.progress.phase === 'string' ? ' (' + j.progress.phase + ')' : '';
  if (j.status === 'queued') return 'Waiting to start…';
  if (j.status === 'running') return 'Running' + phase + '…';
  if (j.status === 'succeeded') return 'Finished.';
  return 'Failed: ' + (j.error ? j.error.message : 'no reason given');
}
async function follow(el) {
  const out = el.querySelector('[data-job-progress]');
  for (;;) {
    let j;
    try {
      const r = await fetch('/console/jobs/' + encodeURIComponent(el.dataset.job), { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!r.ok) { out.textContent = 'Could not read the job status (HTTP ' + r.status + ').'; return; }
      j = await r.json();
    } catch { await sleep(1500); continue; }
    out.textContent = describeJob(j);
    if (j.status === 'succeeded' || j.status === 'failed') { location.reload(); return; }
    await sleep(600);
  }
}
function followJobs() {
  for (const el of document.querySelectorAll('[data-job]')) if (el.dataset.status === 'queued' || el.dataset.status === 'running') follow(el);
}
`;
