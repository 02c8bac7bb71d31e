// The baseline: the fastest a Node.js HTTP server can answer a POST on this
// machine — node:http reading the body and answering 204, nothing else.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.writeHead(204).end());
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
