// A real socket.io-client for the cloud-api realtime tests: connects with the access token
// the way the arguments say (seed 003: auth.token, Authorization header, ?token=) and prints
// one JSON line per thing that happens, until it is killed or its lifetime ends.
//
//   node client.mjs URL NAMESPACE TOKEN MODE   (MODE: auth | header | query | none)
import { io } from "socket.io-client";

const [url, namespace, token, mode] = process.argv.slice(2);
const options = { transports: ["websocket"], reconnection: false, timeout: 5000 };
if (mode === "auth") options.auth = { token };
if (mode === "header") options.extraHeaders = { Authorization: `Bearer ${token}` };
if (mode === "query") options.query = { token };

const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const socket = io(url + namespace, options);
socket.on("connect", () => out({ type: "connected" }));
socket.on("connect_error", (err) => {
  out({ type: "connect_error", message: err.message });
  process.exit(0);
});
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((event, data) => out({ type: "event", event, data }));
setTimeout(() => {
  socket.close();
  process.exit(0);
}, Number(process.env.CLIENT_LIFETIME_MS || 30000));
