/**
 * Received headers as Postfix 3.7's smtpd wrote them into Bob's inbox, for the
 * session logged in test/fixtures/logs/sender-sample.log (queue 0CDCF178411 at
 * the sender, 2426C178491 at the receiver).
 */
// As Postfix 3.7's smtpd writes it with smtpd_tls_received_header = yes (folded with CRLF + TAB).
export const TLS_FOLDED =
  "from smtp.infomaniak.test (m-sender.manualnet [172.18.0.2])\r\n" +
  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n" +
  "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n" +
  "\t(No client certificate requested)\r\n" +
  "\tby mx.iroco.test (Postfix) with ESMTPS id 2426C178491\r\n" +
  "\tfor <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000 (UTC)";

export const PLAIN_FOLDED =
  "from smtp.infomaniak.test (m-sender.manualnet [172.18.0.2])\r\n" +
  "\tby mx.iroco.test (Postfix) with ESMTP id 2426C178491\r\n" +
  "\tfor <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000 (UTC)";
