-- wrk -s login.lua: POST /api/auth/login as the bench admin (Argon2id on every request).
wrk.method = "POST"
wrk.body = '{"email":"bench@gerbang.test","password":"bench-password-123"}'
wrk.headers["Content-Type"] = "application/json"
