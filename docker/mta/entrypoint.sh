#!/bin/sh
# Start one mail provider: apply the role's settings that the harness copied
# into /etc/starttls-lab, start Dovecot, then run Postfix in the foreground
# so its log (maillog_file = /dev/stdout) is the container's log.
set -eu
LAB=/etc/starttls-lab

if [ ! -f "$LAB/role.cf" ]; then
  echo "starttls-lab: $LAB/role.cf is missing; the harness copies it before start" >&2
  exit 64
fi

# The world's own resolver (the dns container) instead of Docker's: Postfix
# must see its DNSSEC answers, and glibc passes the AD bit on only with
# trust-ad. Docker's resolv.conf is a bind mount, so it is rewritten in place.
if [ -n "${LAB_RESOLVER:-}" ]; then
  printf 'nameserver %s\noptions trust-ad\n' "$LAB_RESOLVER" > /etc/resolv.conf
fi

# role.cf: one "parameter = value" per line.
set --
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in ''|'#'*) continue ;; esac
  set -- "$@" "$line"
done < "$LAB/role.cf"
[ "$#" -gt 0 ] && postconf -e "$@"

if [ -f "$LAB/master.cf.append" ]; then
  cat "$LAB/master.cf.append" >> /etc/postfix/master.cf
fi

# The role's configuration is the baseline every scenario resets to.
cp /etc/postfix/main.cf /etc/postfix/main.cf.lab-role
cp /etc/postfix/master.cf /etc/postfix/master.cf.lab-role
mkdir -p "$LAB/running"
cp /etc/postfix/main.cf /etc/postfix/master.cf "$LAB/running/"
chmod 0600 "$LAB"/tls/*.key 2>/dev/null || true
# SNI tables as indexed maps too: built right (postmap -F stores the files'
# contents) and built the wrong way (plain postmap stores their names), the
# classic mistake a scenario can reproduce with tls_server_sni_maps.
if [ -s "$LAB/sni" ]; then
  cp "$LAB/sni" "$LAB/sni-indexed" && postmap -F "hash:$LAB/sni-indexed"
  cp "$LAB/sni" "$LAB/sni-without-F" && postmap "hash:$LAB/sni-without-F"
fi
# Postfix waits until a configuration file or table is about two seconds old
# before reading it; these were all written just now.
find /etc/postfix "$LAB" -type f -exec touch -d '10 seconds ago' {} +

dovecot
exec postfix start-fg
