// Entry point: node dist/collector/src/main.js
// Reads configuration, migrates the schema, serves, and on SIGTERM/SIGINT stops
// taking connections and flushes every buffered row before exiting.
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createCollectorServer } from './server.js';
import { startServices } from './services.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`throughline collector: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = pino({ level: config.logLevel });
  const svc = await startServices(config, log).catch((err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`throughline collector: ${err.message}\n`);
    process.exit(78);
  });
  const server = createCollectorServer(svc);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info({ url: `http://${config.host}:${port}`, database: config.clickhouse.database }, 'collector listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close();
    server.closeIdleConnections();
    await svc.close();
    log.info({ written: svc.hits.written }, 'flushed; bye');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`throughline collector failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
