#!/bin/sh
# Start one OpenSMTPD provider: check the role files the harness copied into
# /etc/starttls-lab, point the resolver at the world's DNS, make the AUTH
# table from Dovecot's passwd-file, start Dovecot, then run smtpd in the
# foreground (-d: its log goes to stderr, so it is the container's log, no
# syslog daemon needed) under a small supervisor that lets lab-smtpd
# restart it with a new configuration while the queue stays on disk.
set -eu
LAB=/etc/starttls-lab

for file in role.conf users tls/server.pem tls/server.key tls/ca.pem; do
  if [ ! -f "$LAB/$file" ]; then
    echo "starttls-lab: $LAB/$file is missing; the harness copies it before start" >&2
    exit 64
  fi
done

# The world's own resolver (the dns container) instead of Docker's, so MX
# lookups see the world's zones. Docker's resolv.conf is a bind mount: it is
# rewritten in place.
if [ -n "${LAB_RESOLVER:-}" ]; then
  printf 'nameserver %s\noptions trust-ad\n' "$LAB_RESOLVER" > /etc/resolv.conf
fi

# Dovecot's passwd-file (user:{PLAIN}password:...) is the one source of the
# passwords; OpenSMTPD's AUTH table wants "user crypt-hash" lines. SHA-512
# crypt rather than smtpctl encrypt's yescrypt (libxcrypt's default), which
# costs about 300 ms of CPU at every login, so at every scenario's submission;
# the lab tests TLS, not the strength of a password hash.
: > "$LAB/submitters.next"
while IFS=: read -r user password _; do
  [ -n "$user" ] || continue
  printf '%s %s\n' "$user" "$(printf '%s' "${password#\{PLAIN\}}" | openssl passwd -6 -stdin)" >> "$LAB/submitters.next"
done < "$LAB/users"
chmod 0600 "$LAB/submitters.next" "$LAB"/tls/*.key
mv "$LAB/submitters.next" "$LAB/submitters"

# Opportunistic STARTTLS until the harness chooses a level.
[ -f "$LAB/relay.conf" ] || lab-relay --write-only
smtpd -n

dovecot

SUPERVISOR=/run/starttls-lab
rm -rf "$SUPERVISOR" && mkdir -p "$SUPERVISOR"
smtpd_job=''
stop_container() {
  trap - TERM INT
  if [ -n "$smtpd_job" ]; then
    kill -TERM "$smtpd_job" 2>/dev/null || true
    wait "$smtpd_job" || true
  fi
  exit 0
}
# A trapped signal interrupts `wait` at once; a foreground command would delay it.
trap stop_container TERM INT
# -v -T bounce: at its plain level smtpd logs no line tying a bounce to the
# message it reports on; bounce.c's debug line ("found message …") and its
# trace of the reply naming the report's own id do, through the bounce
# session (observe/opensmtpdReader.ts). The price is many debug lines.
while :; do
  smtpd -d -v -T bounce &
  smtpd_job=$!
  echo "$smtpd_job" > "$SUPERVISOR/smtpd.pid"
  status=0
  wait "$smtpd_job" || status=$?
  smtpd_job=''
  if [ -e "$SUPERVISOR/restart-requested" ]; then
    rm -f "$SUPERVISOR/restart-requested"
    echo "starttls-lab: smtpd restarts at the harness's request; the queue stays on disk"
    continue
  fi
  echo "starttls-lab: smtpd ended (status $status) without the harness asking; the container ends" >&2
  [ "$status" -ne 0 ] || status=1
  exit "$status"
done
