// The web servers a site owner puts in front of the collector in first-party
// mode (deploy/first-party/: nginx, Apache, Caddy, and PHP for shared hosting),
// each run as this test's own child process on a free port of 127.0.0.1, with a
// config of its own in a temp dir that includes the snippet verbatim, COLLECTOR
// replaced by the collector's address, beside one static page of the "site".
// Nothing outside the temp dir is written; the system's services (and port 80)
// are never touched. scripts/web-servers-deps.sh installs the binaries.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../collector/src/paths.js';
import { freePort } from './collector.js';

export type WebServerKind = 'nginx' | 'apache' | 'caddy' | 'php';
export const WEB_SERVERS: readonly WebServerKind[] = ['nginx', 'apache', 'caddy', 'php'];

/** Where each kind's snippet lives, and the path the site's pages load the tracker from. */
export const SNIPPETS: Record<WebServerKind, { file: string; prefix: string }> = {
  nginx: { file: 'nginx.conf', prefix: '/_tl/' },
  apache: { file: 'apache.conf', prefix: '/_tl/' },
  caddy: { file: 'Caddyfile', prefix: '/_tl/' },
  php: { file: 'tl.php', prefix: '/tl.php/' },
};

const BINARIES: Record<WebServerKind, string> = { nginx: 'nginx', apache: 'apache2', caddy: 'caddy', php: 'php' };
const APACHE_MODULES = '/usr/lib/apache2/modules';
/** mod_unixd, mod_so and mod_log_config are compiled into Debian's apache2; these are loaded. */
const APACHE_LOAD = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['mime_module', 'mod_mime.so'],
  ['dir_module', 'mod_dir.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
  ['headers_module', 'mod_headers.so'],
];

function onPath(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * What this machine lacks to run `kind`, in words for a skip message (with the
 * install command); null when nothing is missing.
 */
export function missingFor(kind: WebServerKind): string | null {
  const fix = 'install with: sudo bash scripts/web-servers-deps.sh';
  if (!onPath(BINARIES[kind])) return `${BINARIES[kind]} is not installed (${fix})`;
  if (kind === 'apache') {
    const absent = APACHE_LOAD.map(([, file]) => file).filter((f) => !existsSync(join(APACHE_MODULES, f!)));
    if (absent.length) return `Apache's modules ${absent.join(', ')} are not in ${APACHE_MODULES} (${fix})`;
  }
  if (kind === 'php') {
    const r = spawnSync('php', ['-r', 'exit(function_exists("curl_init") ? 0 : 1);']);
    if (r.status !== 0) return `PHP's curl extension (php-curl) is not installed (${fix})`;
  }
  return null;
}

/** Each line of `text` indented by `by`: a snippet inside the test's own block. */
const indent = (text: string, by: string) => text.replace(/^(?=.)/gm, by);

/** A snippet as the site owner pastes it, with the collector's address for the placeholder COLLECTOR. */
export function snippet(kind: WebServerKind, collectorUrl: string): string {
  const text = readFileSync(join(ROOT, 'deploy', 'first-party', SNIPPETS[kind].file), 'utf8');
  if (!/\bCOLLECTOR\b/.test(text)) throw new Error(`deploy/first-party/${SNIPPETS[kind].file} has no COLLECTOR placeholder`);
  return text.replace(/\bCOLLECTOR\b/g, collectorUrl.replace(/\/+$/, ''));
}

export type RunningWebServer = {
  kind: WebServerKind;
  /** The server's own address, e.g. http://127.0.0.1:41234. */
  url: string;
  /** The path the tracker's files are under on the site: /_tl/, or /tl.php/ for PHP. */
  prefix: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes the temp dir. */
  stop(): Promise<void>;
};

/** The static page every server serves at / and /index.html. */
export const SITE_PAGE = '<!doctype html><title>Shop</title><h1>A shop</h1>\n';

/** How to run a server; `log`: a file it writes its errors to besides its output. */
type Launch = { cmd: string; args: string[]; env?: Record<string, string>; log?: string };

function nginxConfig(dir: string, site: string, port: number, collectorUrl: string): Launch {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    types { text/html html; }
    server {
        listen 127.0.0.1:${port};
        root ${site};
        index index.html;

${indent(snippet('nginx', collectorUrl), '        ')}
    }
}
`,
  );
  // -e: the error log from the start (before the config is read), not /var/log/nginx.
  return { cmd: 'nginx', args: ['-p', dir, '-e', 'stderr', '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid; error_log stderr;`] };
}

function apacheConfig(dir: string, site: string, port: number, collectorUrl: string): Launch {
  const conf = join(dir, 'httpd.conf');
  mkdirSync(join(dir, 'run'));
  writeFileSync(join(dir, 'mime.types'), ''); // mod_mime's list: the one type needed is added below
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    conf,
    `ServerRoot "${dir}"
DefaultRuntimeDir "${dir}/run"
PidFile "${dir}/run/httpd.pid"
Mutex file:${dir}/run default
ErrorLog "${dir}/error.log"
LogLevel warn
${APACHE_LOAD.map(([name, file]) => `LoadModule ${name} ${APACHE_MODULES}/${file}`).join('\n')}
${asRoot ? 'User www-data\nGroup www-data' : ''}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
StartServers 1
ServerLimit 2
ThreadsPerChild 25
MinSpareThreads 5
MaxSpareThreads 50
MaxRequestWorkers 50
TypesConfig "${dir}/mime.types"
AddType text/html .html
DocumentRoot "${site}"
DirectoryIndex index.html
<Directory "${site}">
    Require all granted
</Directory>

${snippet('apache', collectorUrl)}
`,
  );
  // Apache opens ErrorLog by name, so not a pipe's /dev/stderr: a file, read into output().
  return { cmd: 'apache2', args: ['-f', conf, '-DFOREGROUND'], log: join(dir, 'error.log') };
}

function caddyConfig(dir: string, site: string, port: number, collectorUrl: string): Launch {
  const conf = join(dir, 'Caddyfile');
  writeFileSync(
    conf,
    `{
	admin off
	auto_https off
}

http://:${port} {
	bind 127.0.0.1

${indent(snippet('caddy', collectorUrl), '\t')}

	handle {
		root * ${site}
		file_server
	}
}
`,
  );
  const home = join(dir, 'home');
  mkdirSync(home);
  return {
    cmd: 'caddy',
    args: ['run', '--config', conf, '--adapter', 'caddyfile'],
    env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') },
  };
}

function phpConfig(_dir: string, site: string, port: number, collectorUrl: string): Launch {
  writeFileSync(join(site, 'tl.php'), snippet('php', collectorUrl));
  return { cmd: 'php', args: ['-S', `127.0.0.1:${port}`, '-t', site] };
}

const CONFIGS: Record<WebServerKind, (dir: string, site: string, port: number, collectorUrl: string) => Launch> = {
  nginx: nginxConfig,
  apache: apacheConfig,
  caddy: caddyConfig,
  php: phpConfig,
};

/** Resolves with the status of GET / on the server, or null when it does not answer. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * Starts `kind` on a free port with the snippet forwarding to `collectorUrl`;
 * resolves once it serves the site's page (GET / answers 200).
 */
export async function startWebServer(kind: WebServerKind, collectorUrl: string): Promise<RunningWebServer> {
  const dir = mkdtempSync(join(tmpdir(), `tl-${kind}-`));
  // Readable by the servers' unprivileged workers (www-data) when they run as root.
  chmodSync(dir, 0o755);
  const site = join(dir, 'site');
  mkdirSync(site, { mode: 0o755 });
  writeFileSync(join(site, 'index.html'), SITE_PAGE, { mode: 0o644 });
  const port = await freePort();
  const launch = CONFIGS[kind](dir, site, port, collectorUrl);
  const proc: ChildProcess = spawn(launch.cmd, launch.args, {
    cwd: dir,
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, ...launch.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  const out = () => printed + (launch.log && existsSync(launch.log) ? readFileSync(launch.log, 'utf8') : '');
  proc.stdout!.on('data', (c: Buffer) => (printed += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (printed += c.toString()));
  let spawnError: Error | null = null;
  proc.once('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const running = () => proc.exitCode === null && proc.signalCode === null && spawnError === null;

  let last = '';
  const stop = async () => {
    if (running()) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    last = out();
    rmSync(dir, { recursive: true, force: true });
  };

  const until = Date.now() + 15_000;
  for (;;) {
    if (!running()) {
      await stop();
      throw new Error(`${kind} (${launch.cmd} ${launch.args.join(' ')}) exited before serving: ${spawnError ?? ''}\n${last}`);
    }
    const status = await probe(port);
    if (status === 200) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`${kind} did not serve the site's page in 15 s (last status ${status}):\n${last}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { kind, url: `http://127.0.0.1:${port}`, prefix: SNIPPETS[kind].prefix, output: () => (existsSync(dir) ? out() : last), stop };
}
