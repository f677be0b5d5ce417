// A real socket.io-client for the meals realtime test, connecting the way seed 003's
// frontend does: namespace /notifications, websocket transport, auth: {token, departmentId}
// (or, with `query`, the department as `?departmentId=` in the handshake's query string).
// Prints one JSON line per thing that happens until killed.
//
//   NODE_PATH=cloud-api/tests/socketio/node_modules node client.cjs URL TOKEN [DEPARTMENT_ID [auth|query]]
const { io } = require("socket.io-client");

const [url, token, departmentId, via] = process.argv.slice(2);
const auth = { token };
const query = {};
if (departmentId && via === "query") query.departmentId = departmentId;
else if (departmentId) auth.departmentId = Number(departmentId);
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const socket = io(url + "/notifications", {
  transports: ["websocket"],
  reconnection: false,
  timeout: 5000,
  auth,
  query,
  withCredentials: true,
});
socket.on("connect", () => out({ type: "connected" }));
socket.on("connect_error", (err) => {
  out({ type: "connect_error", message: err.message });
  process.exit(0);
});
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((event, data) => out({ type: "event", event, data }));
setTimeout(() => process.exit(0), Number(process.env.CLIENT_LIFETIME_MS || 60000));
