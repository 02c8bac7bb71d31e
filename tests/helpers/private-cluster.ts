// A private ClickHouse cluster for the cluster-mode tests: one ZooKeeper (Debian's
// package, run as a plain process with its own data folder) and 2 shards × 2
// replicas of clickhouse-server 18.16, all on free loopback ports, each server
// with its own copy of the system config, data and logs under one temp folder.
// The shared servers are never touched. Each server carries the same
// remote_servers (cluster `throughline`, internal_replication: the replicated
// tables copy among themselves, the Distributed tables write one replica per
// shard), the ZooKeeper node, its own macros (shard, replica) and the
// distributed DDL queue, so ON CLUSTER, Replicated*MergeTree and Distributed work.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './collector.js';
import { CH_CONFIG_DIR, clickhouseUser, waitFor } from './private-services.js';

const ZK_JAR = '/usr/share/java/zookeeper.jar';

/** ZooKeeper's four-letter `ruok`; `imok` once it serves (the command is allowed by 4lw.commands.whitelist below). */
function zkOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => s.write('ruok'));
    let got = '';
    s.on('data', (b) => (got += b.toString()));
    s.on('close', () => resolve(got === 'imok'));
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => s.destroy());
  });
}

export type ClusterNode = {
  shard: number;
  replica: number;
  /** HTTP URL (what CLICKHOUSE_URL takes). */
  url: string;
  tcpPort: number;
  start(): Promise<void>;
  /** SIGKILL by default: a replica that vanishes, not one that says goodbye (and a clean stop waits for open connections). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  running(): boolean;
};

export type PrivateCluster = {
  /** The cluster's name in remote_servers (what CLICKHOUSE_CLUSTER takes). */
  name: string;
  zookeeper: { port: number };
  /** nodes[0] is shard 1 replica 1, nodes[1] shard 1 replica 2, nodes[2] shard 2 replica 1, nodes[3] shard 2 replica 2. */
  nodes: ClusterNode[];
  node(shard: number, replica: number): ClusterNode;
  /** Milliseconds the whole cluster took to come up. */
  startMs: number;
  /** Stops every process and removes every file. */
  destroy(): Promise<void>;
};

type Proc = { proc: ChildProcess | null };

async function stopProc(p: Proc, signal: NodeJS.Signals): Promise<void> {
  const c = p.proc;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  await exited;
  p.proc = null;
}

/** Starts ZooKeeper, then (ZooKeeper must be up first: a server that names it exits otherwise) the four servers side by side. */
export async function privateCluster(opts: { name?: string; shards?: number; replicas?: number } = {}): Promise<PrivateCluster> {
  const t0 = Date.now();
  const name = opts.name ?? 'throughline';
  const shards = opts.shards ?? 2;
  const replicas = opts.replicas ?? 2;
  const user = clickhouseUser();
  if (!existsSync(ZK_JAR)) throw new Error(`no ZooKeeper (${ZK_JAR}): apt-get install -y zookeeper`);
  const root = mkdtempSync(join(tmpdir(), 'tl-cluster-'));
  spawnSync('chmod', ['755', root]);

  // ZooKeeper, standalone.
  const zkPort = await freePort();
  const zkDir = join(root, 'zk');
  mkdirSync(join(zkDir, 'data'), { recursive: true });
  writeFileSync(
    join(zkDir, 'zoo.cfg'),
    [
      'tickTime=500',
      `dataDir=${join(zkDir, 'data')}`,
      `clientPort=${zkPort}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok',
      // A test cluster's data is thrown away: no fsync per write.
      'forceSync=no',
      '',
    ].join('\n'),
  );
  // Warnings and errors to a file in its folder (found there when a test fails), not to the test's output.
  writeFileSync(
    join(zkDir, 'log4j.properties'),
    ['log4j.rootLogger=WARN, F', 'log4j.appender.F=org.apache.log4j.FileAppender', `log4j.appender.F.File=${join(zkDir, 'zk.log')}`, 'log4j.appender.F.layout=org.apache.log4j.PatternLayout', ''].join('\n'),
  );
  const zk: Proc = { proc: null };
  zk.proc = spawn(
    'java',
    // A small heap and the quick JIT: a test's ZooKeeper holds a few hundred nodes and should start at once.
    // The class path: the config folder (log4j.properties), ZooKeeper and its libraries from Debian's /usr/share/java.
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dzookeeper.jmx.log4j.disable=true',
      '-cp',
      `${zkDir}:${ZK_JAR}:/usr/share/java/*`,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      join(zkDir, 'zoo.cfg'),
    ],
    { stdio: 'ignore', cwd: zkDir },
  );
  const zkProc = zk.proc;
  await waitFor(async () => zkProc.exitCode === null && (await zkOk(zkPort)), `private ZooKeeper on ${zkPort}`, 30_000, 100);

  // Ports first: every server's remote_servers names all of them.
  const layout: { shard: number; replica: number; http: number; tcp: number; inter: number }[] = [];
  for (let s = 1; s <= shards; s++) for (let r = 1; r <= replicas; r++) layout.push({ shard: s, replica: r, http: await freePort(), tcp: await freePort(), inter: await freePort() });
  const remoteServers = `<remote_servers><${name}>${Array.from({ length: shards }, (_, i) => i + 1)
    .map(
      (s) =>
        `<shard><internal_replication>true</internal_replication>${layout
          .filter((n) => n.shard === s)
          .map((n) => `<replica><host>127.0.0.1</host><port>${n.tcp}</port></replica>`)
          .join('')}</shard>`,
    )
    .join('')}</${name}></remote_servers>`;
  const base = readFileSync(join(CH_CONFIG_DIR, 'config.xml'), 'utf8');

  const nodes: (ClusterNode & Proc)[] = layout.map((n) => {
    const dir = join(root, `s${n.shard}r${n.replica}`);
    let xml = base;
    const set = (tag: string, value: string | number) => {
      xml = xml.replace(new RegExp(`<${tag}>[^<]*</${tag}>`, 'g'), `<${tag}>${value}</${tag}>`);
    };
    set('log', join(dir, 'log', 'server.log'));
    set('errorlog', join(dir, 'log', 'server.err.log'));
    set('http_port', n.http);
    set('tcp_port', n.tcp);
    set('interserver_http_port', n.inter);
    set('path', `${join(dir, 'data')}/`);
    set('tmp_path', `${join(dir, 'tmp')}/`);
    set('user_files_path', `${join(dir, 'user_files')}/`);
    set('format_schema_path', `${join(dir, 'format_schemas')}/`);
    xml = xml
      .replace(/<https_port>[^<]*<\/https_port>/g, '')
      .replace(/<tcp_port_secure>[^<]*<\/tcp_port_secure>/g, '')
      .replace(/<listen_host>::1<\/listen_host>/g, '')
      // The package's own clusters and the /etc/metrika.xml substitutions give way to this cluster's.
      .replace(/<remote_servers[^>]*>[\s\S]*?<\/remote_servers>/, '')
      .replace(/<zookeeper[^>]*\/>/, '')
      .replace(/<macros[^>]*\/>/, '')
      // The distributed DDL queue path is a ZooKeeper path, not a directory: restore it.
      .replace(/(<distributed_ddl>[\s\S]*?<path>)[^<]*(<\/path>)/, '$1/clickhouse/task_queue/ddl$2');
    // A short ZooKeeper session: a killed replica's leadership of its shard (through
    // which a partition drop goes) passes to its twin in seconds, not the default 30.
    xml = xml.replace(
      /<\/yandex>\s*$/,
      `${remoteServers}
    <zookeeper><node><host>127.0.0.1</host><port>${zkPort}</port></node><session_timeout_ms>3000</session_timeout_ms></zookeeper>
    <macros><shard>${n.shard}</shard><replica>r${n.replica}</replica></macros>
    <interserver_http_host>127.0.0.1</interserver_http_host>
</yandex>
`,
    );
    mkdirSync(join(dir, 'log'), { recursive: true });
    writeFileSync(join(dir, 'config.xml'), xml);
    copyFileSync(join(CH_CONFIG_DIR, 'users.xml'), join(dir, 'users.xml'));
    spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
    const url = `http://127.0.0.1:${n.http}`;
    const ping = () => fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok);
    const node: ClusterNode & Proc = {
      shard: n.shard,
      replica: n.replica,
      url,
      tcpPort: n.tcp,
      proc: null,
      async start() {
        if (node.running()) return;
        // Run as the clickhouse user (the server refuses a data dir owned by another).
        node.proc = spawn('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], { stdio: 'ignore', cwd: dir, uid: user.uid, gid: user.gid });
        const p = node.proc;
        await waitFor(async () => p.exitCode === null && (await ping()), `cluster node s${n.shard}r${n.replica} on ${url}`, 60_000, 100);
      },
      stop: (signal = 'SIGKILL') => stopProc(node, signal),
      running: () => !!node.proc && node.proc.exitCode === null && node.proc.signalCode === null,
    };
    return node;
  });

  const destroy = async () => {
    await Promise.all(nodes.map((n) => stopProc(n, 'SIGKILL')));
    await stopProc(zk, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    name,
    zookeeper: { port: zkPort },
    nodes,
    node: (s, r) => {
      const found = nodes.find((n) => n.shard === s && n.replica === r);
      if (!found) throw new Error(`no node s${s}r${r}`);
      return found;
    },
    startMs: Date.now() - t0,
    destroy,
  };
}
