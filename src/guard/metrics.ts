// The guard's figures in the Prometheus text exposition format (version 0.0.4). Labels carry
// the client's API key id (public), the protocol and the status; never an input, an answer, a
// watermark decision or a key. Watermarked answers are deliberately not counted here: a counter
// that moves with them would tell whoever reads it which answers were altered.
export class GuardMetrics {
  private readonly requests = new Map<string, number>();
  private readonly queries = new Map<string, number>();
  private readonly suspected = new Map<string, number>();
  private readonly monitorW = new Map<string, number>();
  private readonly ratePerMinute = new Map<string, number>();
  private ledgerErrors = 0;
  private commitments = 0;
  private readonly buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
  private readonly hist = new Array<number>(this.buckets.length + 1).fill(0);
  private histSum = 0;
  private histCount = 0;

  request(client: string, protocol: string, status: number, seconds: number): void {
    const k = `client="${client}",protocol="${protocol}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    let i = this.buckets.findIndex((b) => seconds <= b);
    if (i < 0) i = this.buckets.length;
    this.hist[i]!++;
    this.histSum += seconds;
    this.histCount++;
  }

  query(client: string, n: number): void {
    this.queries.set(client, (this.queries.get(client) ?? 0) + n);
  }

  monitor(client: string, w: number | undefined, rate: number, suspected: boolean): void {
    if (w !== undefined) this.monitorW.set(client, w);
    this.ratePerMinute.set(client, rate);
    if (suspected) this.suspected.set(client, 1);
  }

  ledgerError(): void {
    this.ledgerErrors++;
  }

  committed(n: number): void {
    this.commitments += n;
  }

  render(): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string, rows: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    };
    family('hallmark_guard_requests_total', 'counter', 'Inference requests by client, protocol and HTTP status.', [...this.requests]);
    family('hallmark_guard_queries_total', 'counter', 'Inputs answered, by client.', [...this.queries].map(([c, v]) => [`client="${c}"`, v]));
    family('hallmark_guard_extraction_suspected', 'gauge', '1 once the extraction monitor flagged the client.', [...this.suspected].map(([c, v]) => [`client="${c}"`, v]));
    family('hallmark_guard_monitor_shapiro_w', 'gauge', 'Latest Shapiro-Wilk W of the client\'s minimum-distance stream (low = synthetic-looking).', [...this.monitorW].map(([c, v]) => [`client="${c}"`, v]));
    family('hallmark_guard_client_queries_per_minute', 'gauge', 'Inputs in the last minute, by client.', [...this.ratePerMinute].map(([c, v]) => [`client="${c}"`, v]));
    family('hallmark_guard_commitments_total', 'counter', 'guard.committed entries appended.', [['', this.commitments]]);
    family('hallmark_guard_ledger_errors_total', 'counter', 'Ledger appends that failed and will be retried.', [['', this.ledgerErrors]]);
    lines.push('# HELP hallmark_guard_request_duration_seconds Time to answer an inference request.', '# TYPE hallmark_guard_request_duration_seconds histogram');
    let cum = 0;
    this.buckets.forEach((b, i) => {
      cum += this.hist[i]!;
      lines.push(`hallmark_guard_request_duration_seconds_bucket{le="${b}"} ${cum}`);
    });
    lines.push(`hallmark_guard_request_duration_seconds_bucket{le="+Inf"} ${this.histCount}`, `hallmark_guard_request_duration_seconds_sum ${this.histSum}`, `hallmark_guard_request_duration_seconds_count ${this.histCount}`);
    return `${lines.join('\n')}\n`;
  }
}
