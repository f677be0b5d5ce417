// The kiosk screen: listens to the device's Server-Sent Events and shows each message big,
// then returns to the resting screen. No framework, no network beyond this device.
"use strict";

const RESET_AFTER_MS = 6000;
const ICONS = { success: "\u2714", failure: "\u2716", neutral: "\u25CF" };
const IDLE = { tone: "neutral", title: "Selamat datang", detail: "Hadapkan wajah Anda ke kamera" };

const $ = (id) => document.getElementById(id);
const timeFormat = new Intl.DateTimeFormat("id-ID", { hour: "2-digit", minute: "2-digit" });
const clockFormat = new Intl.DateTimeFormat("id-ID", {
  weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
});
let resetTimer = null;

function show(message) {
  const tone = message.tone || "neutral";
  $("kiosk").dataset.tone = tone;
  $("icon").textContent = ICONS[tone] || ICONS.neutral;
  $("title").textContent = message.title || "";
  $("detail").textContent = message.detail || "";
  let when = "";
  if (message.at) {
    const at = new Date(message.at);
    if (!Number.isNaN(at.getTime())) when = "Pukul " + timeFormat.format(at);
  }
  $("time").textContent = when;
  clearTimeout(resetTimer);
  if (message.kind && message.kind !== "idle") {
    resetTimer = setTimeout(() => show(IDLE), RESET_AFTER_MS);
  }
}

function pill(id, text, state) {
  const el = $(id);
  el.textContent = text;
  el.dataset.state = state;
}

function showStatus(s) {
  pill("st-cloud", s.cloud_online ? "Cloud: terhubung" : "Cloud: luring", s.cloud_online ? "good" : "bad");
  const door = (s.door_open ? "terbuka" : "tertutup") + ", " + (s.door_locked ? "terkunci" : "tidak terkunci");
  pill("st-door", "Pintu: " + door, s.door_locked || !s.door_open ? "good" : "bad");
  if (s.battery_percent === null || s.battery_percent === undefined) {
    pill("st-battery", "Baterai: –", "unknown");
  } else {
    const power = s.charging === true ? " (mengisi)" : "";
    pill("st-battery", "Baterai: " + s.battery_percent + "%" + power, s.battery_percent > 20 ? "good" : "bad");
  }
}

function connect() {
  const source = new EventSource("/events");
  source.addEventListener("open", () => pill("st-link", "Perangkat: tersambung", "good"));
  source.addEventListener("error", () => pill("st-link", "Perangkat: terputus, mencoba lagi…", "bad"));
  source.addEventListener("status", (e) => {
    try { showStatus(JSON.parse(e.data)); } catch (err) { console.error(err); }
  });
  source.addEventListener("message", (e) => {
    try { show(JSON.parse(e.data)); } catch (err) { console.error(err); }
  });
}

function watchPreview() {
  const img = $("preview");
  img.addEventListener("error", () => {
    $("no-preview").hidden = false;
    // Try again: the camera may start later than the page.
    setTimeout(() => { img.src = "/preview.mjpg?t=" + Date.now(); }, 3000);
  });
  img.addEventListener("load", () => { $("no-preview").hidden = true; });
}

function tick() { $("st-clock").textContent = clockFormat.format(new Date()); }

show(IDLE);
tick();
setInterval(tick, 10000);
watchPreview();
connect();
