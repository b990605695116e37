package dev.tether.websocket.internal.transport;

import dev.tether.core.Verdict;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * The opening handshake of a WebSocket client, the parts every connector shares: the request URI
 * with per-attempt query parameters, a refused upgrade's {@code Retry-After} and status turned into a
 * verdict, and what a failed TLS handshake means in words. Used by the WebSocket client; meant for
 * the MQTT connector's WebSocket transport too (a dependency in that direction only).
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class Upgrades {

    /** IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
    private static final DateTimeFormatter IMF_FIXDATE = DateTimeFormatter.RFC_1123_DATE_TIME;
    /**
     * The obsolete RFC 850 form after its weekday, e.g. {@code 06-Nov-94 08:49:37 GMT}; two-digit years read
     * from 2000 (the weekday is dropped before parsing: it cannot be checked before the century is known).
     */
    private static final DateTimeFormatter RFC_850 = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .appendPattern("dd-MMM-")
            .appendValueReduced(ChronoField.YEAR, 2, 2, LocalDate.of(2000, 1, 1))
            .appendPattern(" HH:mm:ss 'GMT'")
            .toFormatter(Locale.US)
            .withZone(ZoneOffset.UTC);
    /** ANSI C's asctime() form, e.g. {@code Sun Nov  6 08:49:37 1994}. */
    private static final DateTimeFormatter ASCTIME = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .appendPattern("EEE MMM ppd HH:mm:ss yyyy")
            .toFormatter(Locale.US)
            .withZone(ZoneOffset.UTC);

    private Upgrades() {
    }

    /**
     * @param base   the endpoint's URI (its own query is kept)
     * @param params parameters to add, encoded as {@code application/x-www-form-urlencoded}
     * @return the URI to request; the path is {@code /} when the endpoint has none
     */
    public static URI withQuery(URI base, Map<String, String> params) {
        if (params.isEmpty()) {
            return base;
        }
        StringBuilder q = new StringBuilder(base.getRawQuery() == null ? "" : base.getRawQuery());
        params.forEach((k, v) -> {
            if (q.length() > 0) {
                q.append('&');
            }
            q.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
        String path = base.getRawPath() == null || base.getRawPath().isEmpty() ? "/" : base.getRawPath();
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path + "?" + q);
    }

    /**
     * @param uri a URI
     * @return it without query, fragment or user info (queries may carry tokens, and this is printed)
     */
    public static String safeUri(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    /**
     * @param value a {@code Retry-After} value: delay-seconds or an HTTP date (RFC 9110 section 10.2.3)
     * @return the delay from now, or null when absent or unreadable
     */
    public static @Nullable Duration parseRetryAfter(@Nullable String value) {
        return parseRetryAfter(value, Instant.now());
    }

    /**
     * @param value a {@code Retry-After} value: delay-seconds, or an HTTP date in any of the three forms
     *              of RFC 9110 section 5.6.7 (IMF-fixdate, RFC 850, asctime)
     * @param now   the time the answer arrived
     * @return the delay, zero for a date in the past, or null when absent or unreadable
     */
    public static @Nullable Duration parseRetryAfter(@Nullable String value, Instant now) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.chars().allMatch(Character::isDigit)) {
            try {
                return Duration.ofSeconds(Long.parseLong(v));
            } catch (NumberFormatException tooLarge) {
                return null;
            }
        }
        Instant at = parseHttpDate(v, now);
        if (at == null) {
            return null;
        }
        Duration d = Duration.between(now, at);
        return d.isNegative() ? Duration.ZERO : d;
    }

    private static @Nullable Instant parseHttpDate(String v, Instant now) {
        try {
            return ZonedDateTime.parse(v, IMF_FIXDATE).toInstant();
        } catch (DateTimeParseException notImf) {
            // try the obsolete forms
        }
        try {
            int comma = v.indexOf(',');
            if (comma < 0) {
                throw new DateTimeParseException("no weekday", v, 0);
            }
            Instant at = ZonedDateTime.parse(v.substring(comma + 1).trim(), RFC_850).toInstant();
            // RFC 9110: a two-digit year more than 50 years ahead is the most recent past year with those digits.
            ZonedDateTime limit = now.atZone(ZoneOffset.UTC).plusYears(50);
            return at.isAfter(limit.toInstant()) ? at.atZone(ZoneOffset.UTC).minusYears(100).toInstant() : at;
        } catch (DateTimeParseException notRfc850) {
            // try asctime
        }
        try {
            return ZonedDateTime.parse(v.replaceAll(" +", " ").replaceFirst("^(\\S+ \\S+) (\\d) ", "$1  $2 "), ASCTIME).toInstant();
        } catch (DateTimeParseException unreadable) {
            return null;
        }
    }

    /**
     * The verdict for a refused upgrade: 401/403 refresh the credentials, then retry; 429/503 retry after
     * the server's {@code Retry-After} (or the default delay); other 5xx retry; anything else is fatal.
     *
     * @param status       the HTTP status
     * @param retryAfter   the server's {@code Retry-After}, or null
     * @param defaultDelay the least delay for 429/503 without {@code Retry-After}
     * @param fatalAdvice  what to check, for the fatal explanation
     * @return the verdict
     */
    public static Verdict verdictForStatus(int status, @Nullable Duration retryAfter, Duration defaultDelay, String fatalAdvice) {
        if (status == 401 || status == 403) {
            return Verdict.refreshCredentials().withExplanation("HTTP " + status + ": refresh credentials, then retry");
        }
        if (status == 429 || status == 503) {
            Duration delay = retryAfter != null ? retryAfter : defaultDelay;
            return Verdict.retryAfter(delay).withExplanation("HTTP " + status + ": retry after at least " + delay.toMillis() + " ms");
        }
        if (status >= 500) {
            return Verdict.retry();
        }
        return Verdict.fatal("the server refused the WebSocket upgrade with HTTP " + status + "; retrying cannot help: "
                + fatalAdvice);
    }

    /**
     * @param error an attempt's error
     * @return the TLS failure in its cause chain, or null
     */
    public static @Nullable SSLException tlsCause(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SSLException e) {
                return e;
            }
        }
        return null;
    }

    /**
     * Says what was wrong with the server's certificate, from the JDK's exception chain.
     *
     * @param tls  the TLS failure
     * @param host the host connected to
     * @return one sentence fragment, e.g. "the server certificate has expired (...)"
     */
    public static String describeTls(Throwable tls, String host) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = tls; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateExpiredException) {
                return "the server certificate has expired (" + t.getMessage() + ")";
            }
            if (t instanceof java.security.cert.CertificateNotYetValidException) {
                return "the server certificate is not yet valid (" + t.getMessage() + ")";
            }
            all.append(' ').append(t.getMessage());
        }
        String text = all.toString();
        if (text.contains("No subject alternative") || text.contains("No name matching")) {
            return "the server certificate does not name host '" + host + "' (host name verification failed)";
        }
        if (text.contains("PKIX path building failed") || text.contains("unable to find valid certification path")) {
            return "the server certificate is not trusted (no chain to a trusted certificate authority; self-signed?)";
        }
        if (text.contains("bad_certificate") || text.contains("certificate_required")) {
            return "the server refused our client certificate (or we sent none)";
        }
        return tls.getMessage() == null ? tls.getClass().getSimpleName() : tls.getMessage();
    }
}
