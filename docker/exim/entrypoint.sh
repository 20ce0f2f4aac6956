#!/bin/sh
# Start one Exim mail provider: the world's resolver, Dovecot, then the Exim
# daemon, with Exim's main log followed on the container's stdout (what the
# harness reads). The shell stays PID 1 so that a stop ends both.
set -eu
LAB=/etc/starttls-lab

if [ ! -f "$LAB/role.conf" ]; then
  echo "starttls-lab: $LAB/role.conf is missing; the harness copies it before start" >&2
  exit 64
fi

# The world's own resolver instead of Docker's: Exim must see its DNSSEC
# answers, and glibc passes the AD bit on only with trust-ad. Docker's
# resolv.conf is a bind mount, so it is rewritten in place.
if [ -n "${LAB_RESOLVER:-}" ]; then
  printf 'nameserver %s\noptions trust-ad\n' "$LAB_RESOLVER" > /etc/resolv.conf
fi

# Exim's receiving processes run as Debian-exim and read the keys themselves
# (each domain's, chosen by SNI, too).
lab-exim-keys
# IMAPS chooses each domain's certificate by SNI, as Postfix's Dovecot does.
lab-dovecot-sni > "$LAB/dovecot-sni.conf"
dovecot

# A configuration Exim refuses is said here, not by a daemon that died.
exim -bV >/dev/null

# The harness mounts a tmpfs on /var/log/exim4: on the image's overlay
# filesystem tail gets no inotify and looks once a second, which held every
# scenario up to a second after Exim had logged what the harness waits for.
mkdir -p /var/log/exim4 && touch /var/log/exim4/mainlog /var/log/exim4/paniclog
chown Debian-exim:adm /var/log/exim4 /var/log/exim4/mainlog /var/log/exim4/paniclog
chmod 2750 /var/log/exim4
# From the first line, not from the end: tail starts beside the daemon, and
# on a busy machine Exim can log "daemon started" (what the harness waits
# for) before tail opens the file, which "-n 0" then skipped: the container
# looked as if it never started. The tmpfs is empty at every start.
tail -n +1 -F /var/log/exim4/mainlog /var/log/exim4/paniclog 2>/dev/null | grep --line-buffered -v -e '^==> ' -e '^$' &
follower=$!

# -bdf: the daemon in the foreground; -q5m: queue runs, which a deferred
# message does not need before its retry time (the harness retries with -M).
exim -bdf -q5m &
daemon=$!
stop_container() {
  trap - TERM INT
  kill -TERM "$daemon" 2>/dev/null || true
  wait "$daemon" || true
  kill "$follower" 2>/dev/null || true
  exit 0
}
trap stop_container TERM INT
status=0
wait "$daemon" || status=$?
echo "starttls-lab: the Exim daemon ended (status $status) without the harness asking; the container ends" >&2
exit 1
