// A dashboard's real socket.io-client (from cloud-api/tests/socketio) on one cloud replica:
// records, for every event pushed on `device:events`, the time from the event's own `ts`
// (the door wrote it) to its arrival here, and prints the percentiles when interrupted.
//
//   node scripts/scale/dashboard-latency.mjs http://127.0.0.1:8080 ACCESS_TOKEN
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../cloud-api/tests/socketio/package.json"));
const { io } = require("socket.io-client");

const [url, token] = process.argv.slice(2);
const latencies = [];
const socket = io(url, { transports: ["websocket"], auth: { token } });
socket.on("connect_error", (err) => console.error(`connect_error: ${err.message}`));
socket.on("device:events", (events) => {
  const now = Date.now();
  for (const event of events) {
    const ts = Date.parse(event.ts);
    if (!Number.isNaN(ts)) latencies.push(now - ts);
  }
});

function report() {
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN;
  console.log(`dashboard_events=${latencies.length} dashboard_p50_ms=${at(0.5)} dashboard_p99_ms=${at(0.99)} dashboard_max_ms=${at(1)}`);
  socket.close();
  process.exit(0);
}
process.on("SIGINT", report);
process.on("SIGTERM", report);
