// The edge of stack mode (issue 17): NGINX (Debian's package) in front of the gateways, terminating
// TLS with a local CA and certificate made here with openssl, HTTP/2, WebSocket upgrades for
// subscriptions, passive health checks and retry of idempotent requests on the other gateway, and a
// request id on every request. infra/up.sh installs nginx when it is missing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface EdgeOptions {
  /** The HTTPS port (4443 in stack mode). */
  port: number;
  /** The gateways' ports, in upstream order. */
  gatewayPorts: number[];
  /** Where the CA, the certificate, nginx.conf, the logs and nginx's pid live. */
  dir: string;
  /** The gateways' body limit (MAX_BODY_BYTES): nginx refuses larger bodies with 413 as they do. */
  bodyLimitBytes?: number;
  /** The nginx binary: NGINX_BIN, or nginx on the PATH, or /usr/sbin/nginx. */
  nginxBin?: string;
}

export interface RunningEdge {
  /** https://127.0.0.1:<port>/graphql (the certificate names 127.0.0.1 and localhost) */
  url: string;
  /** wss://127.0.0.1:<port>/graphql */
  wsUrl: string;
  /** The local CA's certificate: trust it (curl --cacert, NODE_EXTRA_CA_CERTS) to reach the edge without warnings. */
  caFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** nginx's binary, or undefined when it is not installed. */
export function findNginx(explicit = process.env.NGINX_BIN): string | undefined {
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'])) {
    const candidate = path.join(dir, 'nginx');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * A local CA (kept: trust it once) and a server certificate for localhost and 127.0.0.1 signed by
 * it, made with openssl when missing or expiring within 30 days. EC P-256 keys, mode 0600.
 */
export async function ensureCertificates(dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  await mkdir(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const valid = (cert: string) => {
    if (!existsSync(cert)) return false;
    try {
      openssl('x509', '-checkend', String(30 * 86400), '-noout', '-in', cert);
      return true;
    } catch {
      return false;
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  if (!valid(file('ca.crt')) || !existsSync(file('ca.key'))) {
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '3650',
      '-subj',
      '/CN=Analytica local development CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    await writeFile(file('server.crt'), ''); // a new CA: the server certificate is made again below
  }
  if (!valid(file('server.crt')) || !existsSync(file('server.key'))) {
    openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
    await writeFile(
      file('server.ext'),
      ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', ''].join(
        '\n',
      ),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.crt'),
      '-days',
      '397',
      '-extfile',
      file('server.ext'),
    );
  }
  execFileSync('chmod', ['600', file('ca.key'), file('server.key')]);
  return { caFile: file('ca.crt'), certFile: file('server.crt'), keyFile: file('server.key') };
}

/** nginx.conf for the edge: see the comments in it. */
export function edgeConfig(options: { port: number; gatewayPorts: number[]; dir: string; certFile: string; keyFile: string; bodyLimitBytes: number; runAsRoot: boolean }): string {
  const { dir } = options;
  const upstreams = options.gatewayPorts.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=5s;`).join('\n');
  return `# Made by dev/src/edge.ts at every start of stack mode: edit that file, not this one.
${options.runAsRoot ? '# Workers as root: the temp and log folders below are the stack data folder, which only root may write.\nuser root root;\n' : ''}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }

http {
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server_tokens off;

  # The request id: the caller's when it is a sane one (the gateway accepts the same shape), else a new one.
  map $http_x_request_id $edge_request_id {
    "~^[A-Za-z0-9_-]{1,64}$" $http_x_request_id;
    default $request_id;
  }
  # WebSocket upgrades pass through; other requests keep the upstream connection alive.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    "" "";
  }
  log_format edge '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent $request_time '
                  'request_id=$edge_request_id upstream=$upstream_addr upstream_status=$upstream_status';
  access_log ${dir}/access.log edge;

  # Two (or more) gateways. Passive health checks: one failure takes a gateway out for 5 s, after
  # which one request probes it again.
  upstream gateways {
${upstreams}
    keepalive 64;
  }

  server {
    listen 127.0.0.1:${options.port} ssl http2;
    server_name localhost 127.0.0.1;
    ssl_certificate ${options.certFile};
    ssl_certificate_key ${options.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:edge:1m;
    add_header Strict-Transport-Security "max-age=31536000" always;
    client_max_body_size ${options.bodyLimitBytes};
    client_body_buffer_size ${options.bodyLimitBytes};

    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Request-Id $edge_request_id;
      # The edge is the first hop: what the caller claims is replaced (the gateways trust loopback).
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      # Retry on the other gateway when one cannot be reached, fails or times out. Only idempotent
      # requests (GET queries, WebSocket handshakes) once sent; a POST is retried only when it never
      # reached a gateway (refused connection). non_idempotent is deliberately absent: a mutation
      # must not run twice.
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 2;
      proxy_next_upstream_timeout 15s;
      proxy_connect_timeout 2s;
      # Subscriptions (WebSocket, SSE) stay open; events must not wait in a buffer.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
    }
  }
}
`;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts nginx in the foreground as a child of this process (it stops with the stack). */
export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const nginx = options.nginxBin ?? findNginx();
  if (!nginx) throw new Error("nginx is not installed: run npm run infra:up (it installs Debian's nginx package), or set NGINX_BIN");
  const dir = path.resolve(options.dir);
  for (const sub of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) await mkdir(path.join(dir, sub), { recursive: true });
  const tls = await ensureCertificates(path.join(dir, 'tls'));
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(conf, edgeConfig({ ...options, dir, ...tls, bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024, runAsRoot: process.getuid?.() === 0 }));
  // A stale nginx of a previous run that was not stopped: end it, by the pid it wrote here.
  const pidFile = path.join(dir, 'nginx.pid');
  const stale = existsSync(pidFile) ? Number((await readFile(pidFile, 'utf8')).trim()) : 0;
  if (stale > 0) {
    try {
      const cmdline = await readFile(`/proc/${stale}/cmdline`, 'utf8');
      if (cmdline.includes('nginx') && cmdline.includes(conf)) process.kill(stale, 'SIGQUIT');
    } catch {
      // gone already
    }
  }
  execFileSync(nginx, ['-t', '-q', '-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const child = spawn(nginx, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!(await portOpen(options.port))) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr.trim() || `see ${dir}/error.log`}`);
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new Error(`nginx did not listen on ${options.port} within 15 s: see ${dir}/error.log`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `https://127.0.0.1:${options.port}/graphql`,
    wsUrl: `wss://127.0.0.1:${options.port}/graphql`,
    caFile: tls.caFile,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // QUIT: graceful (open WebSockets end); TERM after 5 s.
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGTERM'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
