-- bluegreen.lua - a blue/green pair: two versions of a site, "blue" on
-- 127.0.0.1:18083 and "green" on 127.0.0.1:18084. Only the live one has
-- autostart = true; the other stays declared, set up and stopped (parked).
-- To switch, change `live` below and run `cell apply` again: it starts the
-- new one and stops the old one. (A proxy or firewall rule in front would
-- point at the live port; here each color keeps its own port.)

local live = "blue"

local ports = { blue = "18083", green = "18084" }

for _, color in ipairs({ "blue", "green" }) do
  local port = ports[color]
  cell(color, {
    network = "host",
    autostart = (color == live),
    supervise = { cmd = "exec busybox httpd -f -p 127.0.0.1:" .. port .. " -h /srv/www" },
    healthcheck = "busybox wget -q -O /dev/null http://127.0.0.1:" .. port .. "/",
  })
  -- each color's page lives in its own layer (R/data/cells/COLOR/upper)
  apply(color, {
    dir("/srv/www", { mode = "0755" }),
    file("/srv/www/index.html", "<h1>" .. color .. "</h1><p>version " .. color .. " on port " .. port .. "</p>\n",
      { mode = "0644" }),
  })
end
