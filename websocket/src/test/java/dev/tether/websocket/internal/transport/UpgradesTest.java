package dev.tether.websocket.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Verdict;
import java.net.URI;
import java.security.cert.CertificateExpiredException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** The opening-handshake helpers shared by connectors. */
class UpgradesTest {

    private static final Instant NOW = Instant.parse("1994-11-06T08:49:00Z");

    @Test
    void retryAfterReadsSecondsAndAllThreeHttpDateForms() {
        assertThat(Upgrades.parseRetryAfter("120", NOW)).isEqualTo(Duration.ofSeconds(120));
        assertThat(Upgrades.parseRetryAfter(" 0 ", NOW)).isEqualTo(Duration.ZERO);
        assertThat(Upgrades.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).isEqualTo(Duration.ofSeconds(37));
        assertThat(Upgrades.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).isEqualTo(Duration.ofSeconds(37));
        assertThat(Upgrades.parseRetryAfter("Sun Nov  6 08:49:37 1994", NOW)).isEqualTo(Duration.ofSeconds(37));
        assertThat(Upgrades.parseRetryAfter("Sun Nov 6 08:49:37 1994", NOW)).isEqualTo(Duration.ofSeconds(37));
        assertThat(Upgrades.parseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", NOW)).as("in the past").isEqualTo(Duration.ZERO);
    }

    @Test
    void aTwoDigitYearMoreThanFiftyYearsAheadIsThePastCentury() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(Upgrades.parseRetryAfter("Thursday, 01-Jan-26 00:01:00 GMT", now)).isEqualTo(Duration.ofMinutes(1));
        assertThat(Upgrades.parseRetryAfter("Friday, 01-Jan-99 00:00:00 GMT", now)).as("1999, not 2099").isEqualTo(Duration.ZERO);
    }

    @Test
    void unreadableRetryAfterIsNull() {
        assertThat(Upgrades.parseRetryAfter(null, NOW)).isNull();
        assertThat(Upgrades.parseRetryAfter("  ", NOW)).isNull();
        assertThat(Upgrades.parseRetryAfter("soon", NOW)).isNull();
        assertThat(Upgrades.parseRetryAfter("-5", NOW)).isNull();
        assertThat(Upgrades.parseRetryAfter("99999999999999999999999", NOW)).isNull();
    }

    @Test
    void theQueryIsAddedEncodedAndTheEndpointsOwnIsKept() {
        Map<String, String> q = new LinkedHashMap<>();
        q.put("token", "a b&c");
        q.put("room", "1");
        assertThat(Upgrades.withQuery(URI.create("ws://h:1/p?x=1"), q)).hasToString("ws://h:1/p?x=1&token=a+b%26c&room=1");
        assertThat(Upgrades.withQuery(URI.create("wss://h"), q)).hasToString("wss://h/?token=a+b%26c&room=1");
        assertThat(Upgrades.withQuery(URI.create("ws://h/p"), Map.of())).hasToString("ws://h/p");
        assertThat(Upgrades.safeUri(URI.create("wss://u:pw@h:8443/p?token=secret#f"))).isEqualTo("wss://h:8443/p");
    }

    @Test
    void statusVerdicts() {
        Duration def = Duration.ofSeconds(5);
        assertThat(Upgrades.verdictForStatus(401, null, def, "x").kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        assertThat(Upgrades.verdictForStatus(403, null, def, "x").kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        assertThat(Upgrades.verdictForStatus(429, Duration.ofSeconds(9), def, "x").minimumDelay()).isEqualTo(Duration.ofSeconds(9));
        assertThat(Upgrades.verdictForStatus(503, null, def, "x").minimumDelay()).isEqualTo(def);
        assertThat(Upgrades.verdictForStatus(502, null, def, "x").kind()).isEqualTo(Verdict.Kind.RETRY);
        Verdict notFound = Upgrades.verdictForStatus(404, null, def, "check the path");
        assertThat(notFound.kind()).isEqualTo(Verdict.Kind.FATAL);
        assertThat(notFound.explanation()).contains("404").contains("check the path");
    }

    @Test
    void tlsFailuresAreSaidInWords() {
        SSLHandshakeException expired = new SSLHandshakeException("handshake failed");
        expired.initCause(new CertificateExpiredException("NotAfter: 2020"));
        RuntimeException wrapped = new RuntimeException(expired);
        assertThat(Upgrades.tlsCause(wrapped)).isSameAs(expired);
        assertThat(Upgrades.describeTls(expired, "h")).startsWith("the server certificate has expired");
        assertThat(Upgrades.describeTls(new SSLHandshakeException("PKIX path building failed"), "h")).contains("not trusted");
        assertThat(Upgrades.describeTls(new SSLHandshakeException("No subject alternative DNS name matching h found"), "h"))
                .contains("does not name host 'h'");
        assertThat(Upgrades.tlsCause(new RuntimeException("plain"))).isNull();
    }
}
