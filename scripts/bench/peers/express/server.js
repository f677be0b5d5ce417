// The seeds' own stack, as the peer of Gerbang's read benchmarks (scripts/bench/peer.sh):
// Express 4 + `pg` + `jsonwebtoken`, two cluster workers (the seeds' PM2 set-up), each read
// after jwt.verify, reading Gerbang's own tables as the seeds' services would:
// - GET /api/door/status (seed 000): one SELECT by primary key;
// - GET /meals/api/orders (seed 003): the page of orders with the orderer's name and NIK,
//   department and shift joined in, and the total, as `{data, total, page, limit, totalPages}`;
// - GET /sakip/api/v1/performance/data (seed 002): one OPD-period's achievements, each with
//   its indicator and the indicator's targets, as `{success, data}` — the three reads run at
//   once on the pool, as Gerbang runs them.
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
  const authenticated = (req, res, next) => {
    const header = req.headers.authorization || '';
    try {
      req.user = jwt.verify(header.startsWith('Bearer ') ? header.slice(7) : '', SECRET);
      return next();
    } catch {
      return res.status(401).json({ message: 'Token tidak valid' });
    }
  };
  app.get('/api/door/status', authenticated, async (req, res) => {
    try {
      const { rows } = await pool.query('SELECT * FROM devices WHERE id = $1', [req.query.device_id || process.env.DEVICE_ID]);
      if (!rows.length) return res.status(404).json({ message: 'Perangkat tidak ditemukan' });
      const d = rows[0];
      return res.json({ device_id: d.id, site: d.site, name: d.name });
    } catch (err) {
      return res.status(500).json({ message: err.message });
    }
  });
  app.get('/meals/api/orders', authenticated, async (req, res) => {
    const page = Math.max(1, Number(req.query.page) || 1);
    const limit = Math.min(100, Math.max(1, Number(req.query.limit) || 10));
    try {
      const [count, rows] = await Promise.all([
        pool.query('SELECT COUNT(*)::int AS total FROM meals_orders'),
        pool.query(
          `SELECT o.*, e.id AS profile_id, u.employee_no, u.name AS user_name,
                  d.name AS department_name, s.name AS shift_name
             FROM meals_orders o
             LEFT JOIN meals_employees e ON e.id = o.employee_id
             LEFT JOIN users u ON u.id = e.user_id
             LEFT JOIN meals_departments d ON d.id = o.department_id
             LEFT JOIN meals_shifts s ON s.id = o.shift_id
            ORDER BY o.created_at DESC, o.id DESC LIMIT $1 OFFSET $2`,
          [limit, (page - 1) * limit],
        ),
      ]);
      const total = count.rows[0].total;
      const data = rows.rows.map((o) => ({
        id: o.id,
        kodePesanan: o.code,
        karyawanPemesanId: o.employee_id,
        karyawan: o.profile_id && { id: o.profile_id, nomorIndukKaryawan: o.employee_no, namaLengkap: o.user_name },
        departmentId: o.department_id,
        departmentName: o.department_name,
        shiftId: o.shift_id,
        shiftName: o.shift_name,
        jumlahPesanan: o.quantity,
        jumlahPesananAwal: o.original_quantity,
        jumlahPesananBaru: o.requested_quantity,
        tanggalPesanan: o.order_date,
        statusPesanan: o.status,
        requiresApproval: o.requires_approval,
        approvalStatus: o.approval_status,
        requestType: o.request_type,
        catatanDapur: o.kitchen_note,
        catatanAdmin: o.admin_note,
        waktuDibuat: o.created_at,
        waktuDiproses: o.processing_at,
        waktuSiap: o.ready_at,
        waktuDiantar: o.delivering_at,
        waktuSelesai: o.done_at,
      }));
      return res.json({ data, total, page, limit, totalPages: Math.ceil(total / limit) });
    } catch (err) {
      return res.status(500).json({ message: err.message });
    }
  });
  app.get('/sakip/api/v1/performance/data', authenticated, async (req, res) => {
    const year = Number(req.query.year);
    const opd = Number(req.query.opd_id);
    const period = [];
    const params = [year, opd];
    for (const key of ['quarter', 'month']) {
      if (req.query[key] !== undefined) {
        params.push(Number(req.query[key]));
        period.push(` AND ${key} = $${params.length}`);
      }
    }
    const scope = 'indicator_id IN (SELECT id FROM sakip_indicators WHERE opd_id = $2)';
    try {
      const [achievements, indicators, targets] = await Promise.all([
        pool.query(`SELECT * FROM sakip_performance_achievements WHERE year = $1 AND ${scope}${period.join('')} ORDER BY indicator_id, quarter, month`, params),
        pool.query('SELECT * FROM sakip_indicators WHERE opd_id = $1', [opd]),
        pool.query(`SELECT * FROM sakip_performance_targets WHERE year = $1 AND ${scope}${period.join('')} ORDER BY id`, params),
      ]);
      const byIndicator = new Map(indicators.rows.map((i) => [i.id, { ...i, targets: [] }]));
      for (const t of targets.rows) byIndicator.get(t.indicator_id)?.targets.push(t);
      const data = achievements.rows
        .filter((a) => byIndicator.has(a.indicator_id))
        .map((a) => ({ ...a, indicator: byIndicator.get(a.indicator_id) }));
      return res.json({ success: true, data });
    } catch (err) {
      return res.status(500).json({ success: false, message: err.message });
    }
  });
  app.listen(PORT, '127.0.0.1', () => process.send('listening'));
}
