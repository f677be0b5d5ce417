// The seeds' own stack, as the peer of Gerbang's read benchmark (scripts/bench/peer.sh):
// Express 4 + `pg` + `jsonwebtoken`, two cluster workers (the seeds' PM2 set-up), and
// GET /api/door/status answering one SELECT by primary key after jwt.verify — the same
// work Gerbang does for that route, written as the seeds' NestJS/Express services write it.
//
//   DATABASE_URL=postgres://… DEVICE_ID=door-0 PORT=8081 node server.js
// prints `TOKEN=<a bearer token>` and `ready` once both workers listen.
'use strict';
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const express = require('express');
const jwt = require('jsonwebtoken');
const { Pool } = require('pg');

const WORKERS = Number(process.env.WORKERS || 2);
const PORT = Number(process.env.PORT || 8081);
const SECRET = process.env.JWT_SECRET || crypto.randomBytes(32).toString('hex');

if (cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < WORKERS; i += 1) {
    cluster.fork({ JWT_SECRET: SECRET }).on('message', (m) => {
      ready += m === 'listening' ? 1 : 0;
      if (ready === WORKERS) {
        console.log(`TOKEN=${jwt.sign({ sub: 'bench', role: 'admin' }, SECRET, { expiresIn: '1h' })}`);
        console.log('ready');
      }
    });
  }
} else {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const app = express();
  app.get('/api/door/status', async (req, res) => {
    const header = req.headers.authorization || '';
    try {
      jwt.verify(header.startsWith('Bearer ') ? header.slice(7) : '', SECRET);
    } catch {
      return res.status(401).json({ message: 'Token tidak valid' });
    }
    try {
      const { rows } = await pool.query('SELECT * FROM devices WHERE id = $1', [req.query.device_id || process.env.DEVICE_ID]);
      if (!rows.length) return res.status(404).json({ message: 'Perangkat tidak ditemukan' });
      const d = rows[0];
      return res.json({ device_id: d.id, site: d.site, name: d.name });
    } catch (err) {
      return res.status(500).json({ message: err.message });
    }
  });
  app.listen(PORT, '127.0.0.1', () => process.send('listening'));
}
