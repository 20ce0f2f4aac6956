#!/usr/bin/env bash
# Debian's swaks at /usr/bin/swaks: test/e2e/up-world.test.ts probes a world
# that stays up with it, as an admin would.
exec "$(dirname "$0")/ensure-debian-tool.sh" /usr/bin/swaks swaks libnet-ssleay-perl
