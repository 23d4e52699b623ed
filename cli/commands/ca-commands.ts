import { DEFAULT_CA_DIR, initCa } from '../../capture/proxy/ca-files.js';
import { requirePositionals, type Command } from '../command.js';

/** `reprise ca init`: the CA that lets `capture proxy --forward` record HTTPS. */
export const caInitCommand: Command = {
  path: ['ca', 'init'],
  args: '',
  summary: 'Create the certificate authority for HTTPS interception by the forward proxy: ca.crt (trust it in your clients) and ca.key (mode 0600). Refuses to replace an existing CA without --force.',
  options: {
    dir: { type: 'string', hint: 'dir', description: `directory for ca.crt and ca.key (default ${DEFAULT_CA_DIR})` },
    force: { type: 'boolean', description: 'replace an existing CA (clients that trusted the old one stop trusting the proxy)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  examples: [
    'reprise ca init',
    'reprise ca init --dir ./ca && curl --proxy http://127.0.0.1:8888 --cacert ./ca/ca.crt https://example.com/',
  ],
  async run(parsed, ctx) {
    requirePositionals(this, parsed, []);
    const dir = typeof parsed.values.dir === 'string' ? parsed.values.dir : undefined;
    const r = await initCa({ ...(dir ? { dir } : {}), force: parsed.values.force === true });
    if (parsed.values.json) {
      ctx.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return 0;
    }
    ctx.stdout.write([
      `ca.crt       ${r.certPath}   (clients trust this)`,
      `ca.key       ${r.keyPath}   (mode 0600: keep it private)`,
      `subject      ${r.subject}`,
      `valid until  ${r.validTo}`,
      `sha256       ${r.fingerprint256}`,
      '',
      'Trust it where the traffic comes from, e.g.:',
      `  curl --cacert ${r.certPath} …`,
      `  NODE_EXTRA_CA_CERTS=${r.certPath} node app.js`,
      `  cp ${r.certPath} /usr/local/share/ca-certificates/reprise.crt && update-ca-certificates   (Debian/Ubuntu, system-wide)`,
      '',
    ].join('\n'));
    return 0;
  },
};
