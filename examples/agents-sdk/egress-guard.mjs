// egress-guard.mjs - loaded with 'node --import' before the agent: it
// prints "egress: HOST:PORT" on stderr for every connection that the
// process starts to a host other than loopback, and lets it go on. In
// runbundle's sandbox such a connection fails. Node's fetch ignores
// HTTPS_PROXY, so the egress proxy never receives it and records no
// violation, and this line is the only trace of the attempt.
import net from 'node:net';

const loopback = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/;

function report(host, port) {
  if (host !== undefined && !loopback.test(String(host)))
    process.stderr.write(`egress: ${host}:${port}\n`);
}

const fetch = globalThis.fetch;
globalThis.fetch = function (input, init) {
  try {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const port = url.port || (url.protocol === 'https:' ? 443 : 80);
    report(url.hostname, port);
  } catch {
    // An invalid URL: fetch itself rejects it.
  }
  return fetch.call(this, input, init);
};

// net.Socket#connect takes (options), (port, host) or (path). A path is
// a local socket and is not reported.
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let first = args[0];
  if (Array.isArray(first))
    first = first[0];
  if (first !== null && typeof first === 'object' && first.path === undefined)
    report(first.host ?? 'localhost', first.port);
  else if (typeof first === 'number' || /^\d+$/.test(String(first)))
    report(typeof args[1] === 'string' ? args[1] : 'localhost', first);
  return connect.apply(this, args);
};
