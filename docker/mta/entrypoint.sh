#!/bin/sh
# Start one mail provider: apply the role's settings that the harness copied
# into /etc/starttls-lab, start Dovecot, then run Postfix in the foreground
# so its log (maillog_file = /dev/stdout) is the container's log, under a
# small supervisor that lets the harness stop and start Postfix alone.
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

# Postfix programs (postconf -h too) wait until main.cf is about two seconds
# old before reading it: each change here is backdated at once, or every
# later postconf would wait (about 2 s each, measured at world start).
set_main_cf() {
  postconf -e "$@"
  touch -d '10 seconds ago' /etc/postfix/main.cf
}

# role.cf: one "parameter = value" per line.
set --
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in ''|'#'*) continue ;; esac
  set -- "$@" "$line"
done < "$LAB/role.cf"
[ "$#" -gt 0 ] && set_main_cf "$@"

# TLSRPT (RFC 8460) on the sending side, where this Postfix is built with
# libtlsrpt (3.10 on): the harness's collector listens where TLSRPT_README
# suggests, under the queue directory, and Postfix reports every TLS
# success or failure to a destination that publishes _smtp._tls. Part of
# the baseline, as at a careful provider: without that DNS record Postfix
# reports nothing.
if [ "${LAB_TLSRPT:-}" = collect ]; then
  if ldd "$(postconf -h daemon_directory)/smtp" | grep -q libtlsrpt; then
    socket=$(postconf -h queue_directory)/run/tlsrpt/tlsrpt.sock
    mkdir -p "${socket%/*}"
    lab-tlsrpt-collector "$socket" &
    # Listening before Postfix starts, or the first report would be lost.
    for _ in $(seq 1 100); do [ -S "$socket" ] && break; sleep 0.05; done
    [ -S "$socket" ] || { echo "starttls-lab tlsrpt: the collector did not start listening on $socket" >&2; exit 1; }
    set_main_cf smtp_tlsrpt_enable=yes smtp_tlsrpt_socket_name=run/tlsrpt/tlsrpt.sock
    # The MTA-STS resolver adds the policy details TLSRPT reports (policy
    # type, domain, lines, mx patterns) when asked under the socketmap name
    # "tlsrpt" (docker/dns/lab-dns-mta-sts-daemon). Given mx patterns,
    # Postfix 3.10 would also refuse an unlisted MX host itself, before
    # connecting (smtp_tls_enforce_sts_mx_patterns = yes): kept at no, so an
    # unlisted host still fails on its certificate (match=) as under 3.7,
    # and is reported; a scenario can set it back to yes.
    policy_maps=$(postconf -h smtp_tls_policy_maps)
    case "$policy_maps" in
      socketmap:*:postfix) set_main_cf "smtp_tls_policy_maps=${policy_maps%:postfix}:tlsrpt" smtp_tls_enforce_sts_mx_patterns=no ;;
    esac
  else
    echo "starttls-lab tlsrpt: this Postfix is built without TLSRPT support: no collector"
  fi
fi

# The role's configuration is the baseline every scenario resets to.
cp /etc/postfix/main.cf /etc/postfix/main.cf.lab-role
cp /etc/postfix/master.cf /etc/postfix/master.cf.lab-role
mkdir -p "$LAB/running"
chmod 0600 "$LAB"/tls/*.key 2>/dev/null || true
# SNI tables as indexed maps too: built right (postmap -F stores the files'
# contents) and built the wrong way (plain postmap stores their names), the
# classic mistake a scenario can reproduce with tls_server_sni_maps.
if [ -s "$LAB/sni" ]; then
  cp "$LAB/sni" "$LAB/sni-indexed" && postmap -F "hash:$LAB/sni-indexed"
  cp "$LAB/sni" "$LAB/sni-without-F" && postmap "hash:$LAB/sni-without-F"
fi
lab-dovecot-sni > "$LAB/dovecot-sni.conf"
# Postfix waits until a configuration file or table is about two seconds old
# before reading it; these were all written just now.
find /etc/postfix "$LAB" -type f -exec touch -d '10 seconds ago' {} +

dovecot

# This shell stays PID 1 and runs Postfix in the foreground, so that the
# harness can stop Postfix as a whole (an outage, a restart with mail in the
# queue: lab-postfix) while the container, Dovecot and the queue on disk
# stay. Postfix ending for any other reason ends the container, as a crash
# should. The files in $SUPERVISOR are lab-postfix's side of the protocol.
SUPERVISOR=/run/starttls-lab
rm -rf "$SUPERVISOR" && mkdir -p "$SUPERVISOR"
mkfifo "$SUPERVISOR/start-request"
queue_directory=$(postconf -h queue_directory)
postfix_job=''
start_waiter=''
stop_container() {
  trap - TERM INT
  [ -z "$start_waiter" ] || kill "$start_waiter" 2>/dev/null || true
  if [ -n "$postfix_job" ]; then
    kill -TERM "$(sed 1q "$queue_directory/pid/master.pid" | tr -d ' ')" 2>/dev/null || true
    wait "$postfix_job" || true
  fi
  exit 0
}
# A trapped signal interrupts `wait` at once; a foreground command would delay it.
trap stop_container TERM INT
while :; do
  # What the master loads now: lab-apply compares the next settings with it.
  cp /etc/postfix/main.cf /etc/postfix/master.cf "$LAB/running/"
  # Skip the integrity checks "postfix start" runs (postfix check and its
  # permission walk, 0.5-2 s of every start): the image was checked when it
  # was built, the role's settings are the harness's own, and every
  # scenario's settings go through lab-apply, which refuses warnings.
  # Postfix removes the file at each start.
  touch "$queue_directory/quick-start"
  postfix start-fg &
  postfix_job=$!
  status=0
  wait "$postfix_job" || status=$?
  postfix_job=''
  if [ ! -e "$SUPERVISOR/stop-requested" ]; then
    echo "starttls-lab: Postfix ended (status $status) without the harness asking; the container ends" >&2
    [ "$status" -ne 0 ] || status=1
    exit "$status"
  fi
  echo "starttls-lab: Postfix stopped at the harness's request; the queue stays on disk until lab-postfix start"
  : > "$SUPERVISOR/stopped"
  read -r _ < "$SUPERVISOR/start-request" &
  start_waiter=$!
  wait "$start_waiter" || true
  start_waiter=''
  rm -f "$SUPERVISOR/stopped"
  echo "starttls-lab: Postfix starts again at the harness's request"
done
