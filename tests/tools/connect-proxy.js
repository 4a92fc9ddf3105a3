#!/usr/bin/env node
'use strict';
// connect-proxy.js LOG - a tiny HTTP CONNECT proxy on 127.0.0.1 for tests.
// Prints its port on stdout, then appends each request line
// ("CONNECT host:port HTTP/1.1") to LOG and tunnels the bytes both ways.
// Anything but CONNECT gets 405.  Runs until killed.
const fs = require('node:fs');
const net = require('node:net');

const logFile = process.argv[2];
if (!logFile) {
  process.stderr.write('usage: connect-proxy.js LOG\n');
  process.exit(2);
}

function handle(conn) {
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    conn.removeListener('data', onData);
    const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const rest = head.subarray(end + 4);
    fs.appendFileSync(logFile, `${line}\n`);
    const parts = line.split(' ');
    if (parts.length !== 3 || parts[0] !== 'CONNECT') {
      conn.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const at = parts[1].lastIndexOf(':');
    const host = parts[1].slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(parts[1].slice(at + 1));
    const up = net.connect({ host, port }, () => {
      conn.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (rest.length) up.write(rest);
      conn.pipe(up);
      up.pipe(conn);
    });
    up.on('error', () => conn.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    conn.on('error', () => up.destroy());
  };
  conn.on('data', onData);
  conn.on('error', () => {});
}

const server = net.createServer(handle);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
