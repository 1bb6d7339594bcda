-- web.lua - a static web server: busybox httpd in a cell on the host's
-- loopback (127.0.0.1:18080), serving a volume whose index page `cell apply`
-- renders from index.html.tmpl. Try it: cp -r examples/web R/etc &&
-- cell --root R apply && curl http://127.0.0.1:18080/

local port = "18080"

-- The content lives in a volume (R/data/volumes/www on the host), so it
-- outlives the cell and can be backed up on its own (cell backup).
volume("www", { mode = "0755" })

cell("web", {
  network = "host", -- the host's network: its loopback is reachable from the host
  supervise = { cmd = "exec busybox httpd -f -p 127.0.0.1:" .. port .. " -h /srv/www" },
  mounts = { volume("www", { target = "/srv/www", mode = "rw" }) },
  healthcheck = "busybox wget -q -O /dev/null http://127.0.0.1:" .. port .. "/",
  limits = { memory = "32M", pids = 16 },
})

-- Run inside the cell's view before it starts: /srv/www is the volume.
apply("web", {
  template("index.html.tmpl", "/srv/www/index.html", {
    mode = "0644",
    tokens = { port = port, greeting = "hello from a cell" },
  }),
  file("/srv/www/robots.txt", "User-agent: *\nDisallow: /\n", { mode = "0644" }),
})
