-- app.lua - a two-cell app: "db" (busybox httpd on 127.0.0.1:18081, a
-- stand-in for a database that answers over HTTP) and "app" (busybox httpd
-- on 127.0.0.1:18082 with a CGI page that asks db). app depends_on db, so
-- `cell apply` sets db up and starts it first; app's healthcheck fails
-- while db does not answer. Try it: cp -r examples/app R/etc &&
-- cell --root R apply && curl http://127.0.0.1:18082/cgi-bin/status

local db_port, app_port = "18081", "18082"
local db_url = "http://127.0.0.1:" .. db_port .. "/"

cell("db", {
  network = "host",
  supervise = { cmd = "exec busybox httpd -f -p 127.0.0.1:" .. db_port .. " -h /srv/db" },
  healthcheck = "busybox wget -q -O /dev/null " .. db_url,
  restart = "always",
})

-- db's data lives in its own layer (R/data/cells/db/upper): apply writes it
-- there, and the cell sees it, read-only, at /srv/db.
apply("db", {
  dir("/srv/db", { mode = "0755" }),
  file("/srv/db/index.html", "db ok: 3 rows\n", { mode = "0644" }),
})

cell("app", {
  network = "host",
  depends_on = { "db" },
  env = { DB_URL = db_url },
  supervise = { cmd = "exec busybox httpd -f -p 127.0.0.1:" .. app_port .. " -h /srv/app" },
  -- healthy only when app answers and db answers app
  healthcheck = "busybox wget -q -O - http://127.0.0.1:" .. app_port .. "/cgi-bin/status | grep -q 'db ok'",
  restart = "always",
})

apply("app", {
  dir("/srv/app/cgi-bin", { mode = "0755" }),
  file("/srv/app/index.html", "<h1>app</h1><p>see <a href=\"/cgi-bin/status\">status</a></p>\n", { mode = "0644" }),
  -- a CGI script: busybox httpd runs it for each request to /cgi-bin/status
  file("/srv/app/cgi-bin/status", [[#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
printf 'app ok; db says: '
busybox wget -q -O - "$DB_URL" || echo "db unreachable"
]], { mode = "0755" }),
})
