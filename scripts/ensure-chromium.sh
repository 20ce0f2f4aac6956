#!/usr/bin/env bash
# Debian's Chromium at /usr/bin/chromium, for the HTML report's browser test
# (test/unit/report-html.test.ts) and `npm run report:screenshot`.
exec "$(dirname "$0")/ensure-debian-tool.sh" /usr/bin/chromium chromium
