import { capturePcap, formatPcapSummary, newPcapCaptureSummary, segmentExchanges, type PcapCaptureOptions } from '../../capture/pcap/capture-pcap.js';
import { listenVxlan } from '../../capture/pcap/vxlan-listener.js';
import { RepriseError } from '../../errors.js';
import { parseTimeBound } from '../../store/exchange-filter.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { requirePositionals, requireString, type Command, type OptionSpec, type ParsedArgs } from '../command.js';
import { REDACT_OPTIONS, redactHeadersFromArgs } from '../redact-options.js';
import { S3_OPTIONS } from '../s3-options.js';
import { parseListenAddress } from '../../capture/listen-address.js';

const CAPTURE_OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', short: 'o', hint: 'store', description: 'store to append to: a directory (created if missing) or s3://bucket/prefix' },
  'server-port': { type: 'string', multiple: true, hint: 'port', description: 'ports that mark the server side (default: detect HTTP by parsing)' },
  port: { type: 'string', multiple: true, hint: 'port', description: 'keep only traffic to or from this port' },
  host: { type: 'string', multiple: true, hint: 'ip', description: 'keep only traffic to or from this address' },
  from: { type: 'string', hint: 'time', description: 'ignore packets captured before (ISO 8601, epoch ms or µs)' },
  to: { type: 'string', hint: 'time', description: 'ignore packets captured at or after' },
  'body-cap': { type: 'string', hint: 'bytes', description: 'bytes of each body stored (default 1048576); the true size is always kept' },
  ...REDACT_OPTIONS,
  json: { type: 'boolean', description: 'print the summary as JSON' },
  ...S3_OPTIONS,
};

function captureOptionsFromArgs(cmd: Command, parsed: ParsedArgs): Omit<PcapCaptureOptions, 'name'> {
  const v = parsed.values;
  const ints = (k: string): number[] | undefined => {
    const raw = v[k] as string[] | undefined;
    if (!raw) return undefined;
    return raw.flatMap((s) => s.split(',')).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: --${k} "${s}" is not a port (1–65535)`);
      return n;
    });
  };
  const o: Omit<PcapCaptureOptions, 'name'> = {};
  const serverPorts = ints('server-port');
  const ports = ints('port');
  if (serverPorts) o.serverPorts = serverPorts;
  if (ports) o.ports = ports;
  if (v.host) o.hosts = (v.host as string[]).flatMap((s) => s.split(','));
  if (typeof v.from === 'string') o.from = parseTimeBound(v.from, '--from');
  if (typeof v.to === 'string') o.to = parseTimeBound(v.to, '--to');
  if (typeof v['body-cap'] === 'string') {
    const cap = Number(v['body-cap']);
    if (!Number.isInteger(cap) || cap < 0) throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: --body-cap must be a whole number of bytes`);
    o.bodyCap = cap;
  }
  o.redactHeaders = redactHeadersFromArgs(v);
  return o;
}

export const capturePcapCommand: Command = {
  path: ['capture', 'pcap'],
  args: '<file|->',
  summary: 'Turn a pcap/pcapng capture (a file, or - for stdin, e.g. a live `tcpdump -w -`) into exchanges in a store.',
  options: CAPTURE_OPTIONS,
  examples: [
    'reprise capture pcap traffic.pcapng --out ./store',
    'tcpdump -i eth0 -s0 -U --immediate-mode -w - port 8080 | reprise capture pcap - --out ./store',
  ],
  async run(parsed, ctx) {
    const [input] = requirePositionals(this, parsed, ['<file|->']);
    const out = requireString(this, parsed, 'out');
    const options = captureOptionsFromArgs(this, parsed);
    options.onProgress = (s) => ctx.log?.info({ packets: s.packets, exchanges: s.exchanges, dropped: s.droppedTotal }, 'capturing');
    const summary = await capturePcap(input!, out, options);
    ctx.stdout.write(parsed.values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatPcapSummary(summary)}\nstore        ${out}\n`);
    return 0;
  },
};

export const captureVxlanCommand: Command = {
  path: ['capture', 'vxlan'],
  args: '',
  summary: 'Receive AWS VPC Traffic Mirroring (VXLAN over UDP) and record the HTTP exchanges inside; stops on SIGINT/SIGTERM or after --duration.',
  options: {
    ...CAPTURE_OPTIONS,
    listen: { type: 'string', hint: 'addr:port', description: 'UDP address to receive VXLAN on (mirror target), e.g. 0.0.0.0:4789' },
    duration: { type: 'string', hint: 'seconds', description: 'stop after this many seconds' },
  },
  examples: ['reprise capture vxlan --listen 0.0.0.0:4789 --out ./store --port 8080'],
  async run(parsed, ctx) {
    requirePositionals(this, parsed, []);
    const out = requireString(this, parsed, 'out');
    const listen = requireString(this, parsed, 'listen');
    const address = parseListenAddress(listen);
    if (!address) throw new RepriseError('CLI_USAGE', `capture vxlan: --listen "${listen}" must be addr:port`);
    const options = captureOptionsFromArgs(this, parsed);
    const listener = await listenVxlan({ host: address.host, port: address.port, ...(options.ports ? { ports: options.ports } : {}), ...(options.hosts ? { hosts: options.hosts } : {}) });
    ctx.log?.info({ address: listener.address }, 'listening for VXLAN');
    const stop = (): void => void listener.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const seconds = Number(parsed.values.duration ?? 0);
    const timer = seconds > 0 ? setTimeout(stop, seconds * 1000) : null;
    const summary = newPcapCaptureSummary();
    try {
      await writeExchanges(segmentExchanges(listener.segments, { ...options, name: `vxlan-${listen}` }, listener.stats, summary), out);
    } finally {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    ctx.stdout.write(parsed.values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatPcapSummary(summary)}\nstore        ${out}\n`);
    return 0;
  },
};
