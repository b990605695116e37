package dev.tether.websocket;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Endpoint;
import dev.tether.core.FailureClassifier;
import dev.tether.core.Verdict;
import dev.tether.websocket.internal.CloseCodes;
import dev.tether.websocket.internal.transport.Upgrades;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The WebSocket client's verdict table: what the next attempt does after a refused upgrade or a
 * session that ended with a close code. The WebSocket counterpart of MQTT's {@code MqttVerdicts}.
 *
 * <table>
 *   <caption>Default verdicts</caption>
 *   <tr><th>what happened</th><th>verdict</th></tr>
 *   <tr><td>HTTP 301/302/303/307/308 with an absolute {@code Location}</td><td>redirect there (http to ws, https to wss)</td></tr>
 *   <tr><td>HTTP 401, 403</td><td>refresh credentials, then retry</td></tr>
 *   <tr><td>HTTP 429, 503; close code 1013</td><td>retry after {@code Retry-After}, or {@link #tryAgainLaterDelay()}</td></tr>
 *   <tr><td>HTTP 5xx; close codes 1001, 1006, 1011, 1012, 1014, others</td><td>retry</td></tr>
 *   <tr><td>other HTTP 4xx</td><td>fatal</td></tr>
 *   <tr><td>close code 1000</td><td>fatal (a goodbye for good) unless {@link Builder#reconnectOnNormalClosure(boolean)}</td></tr>
 *   <tr><td>close codes 1002, 1003, 1007, 1008, 1009, 1010</td><td>fatal unless {@link Builder#reconnectOnProtocolError(boolean)}</td></tr>
 *   <tr><td>a code in {@link Builder#refreshCredentialsOnCloseCodes(int...)}</td><td>refresh credentials, then retry</td></tr>
 * </table>
 *
 * <p>Failures it does not recognise (TCP refused, timeouts, heartbeat loss) are left to the engine's
 * defaults. Immutable; equal when every setting is equal.
 */
public final class WebSocketVerdicts {

    /** Default least delay after 1013 or HTTP 429/503 without {@code Retry-After}: 5 s. */
    public static final Duration DEFAULT_TRY_AGAIN_LATER_DELAY = Duration.ofSeconds(5);

    private static final WebSocketVerdicts DEFAULTS = new Builder().build();

    private final boolean reconnectOnNormalClosure;
    private final boolean reconnectOnProtocolError;
    private final Set<Integer> refreshCredentialsOnCloseCodes;
    private final Duration tryAgainLaterDelay;

    private WebSocketVerdicts(Builder b) {
        this.reconnectOnNormalClosure = b.reconnectOnNormalClosure;
        this.reconnectOnProtocolError = b.reconnectOnProtocolError;
        this.refreshCredentialsOnCloseCodes = Set.copyOf(b.refreshCredentialsOnCloseCodes);
        this.tryAgainLaterDelay = b.tryAgainLaterDelay;
    }

    /** @return the default table */
    public static WebSocketVerdicts defaults() {
        return DEFAULTS;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this table's settings */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** @return this table as the classifier a {@link dev.tether.core.spi.Connector} hands the engine */
    public FailureClassifier classifier() {
        return this::classify;
    }

    /**
     * @param failure an attempt's or a session's failure
     * @return the verdict for it, or empty when the table does not know it (the engine's defaults apply)
     */
    public Optional<Verdict> classify(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof WebSocketUpgradeException u) {
                Optional<Verdict> redirect = redirect(u);
                return Optional.of(redirect.orElseGet(() -> forStatus(u.status(), u.retryAfter().orElse(null))));
            }
            if (t instanceof ConnectionFailedException cfe && cfe.code().isPresent() && cfe.code().getAsInt() >= 1000) {
                return Optional.of(forCloseCode(cfe.code().getAsInt()));
            }
        }
        return Optional.empty();
    }

    /**
     * The verdict for a refused upgrade.
     *
     * @param status     the HTTP status
     * @param retryAfter the server's {@code Retry-After}, or null
     * @return the verdict
     */
    public Verdict forStatus(int status, @Nullable Duration retryAfter) {
        return Upgrades.verdictForStatus(status, retryAfter, tryAgainLaterDelay, "check the endpoint URI, path and request");
    }

    /**
     * The verdict for a session that ended with a close code.
     *
     * @param code the decisive close code (see {@link WebSocketClosedException#decisiveCode(CloseSummary)})
     * @return the verdict
     */
    public Verdict forCloseCode(int code) {
        if (refreshCredentialsOnCloseCodes.contains(code)) {
            return Verdict.refreshCredentials().withExplanation("close code " + code + ": refresh credentials, then retry");
        }
        return switch (code) {
            case 1000 -> reconnectOnNormalClosure ? Verdict.retry()
                    : Verdict.fatal("the peer closed the WebSocket normally (1000), a goodbye for good; not reconnecting "
                    + "(set WebSocketVerdicts.Builder.reconnectOnNormalClosure(true) to reconnect anyway)");
            case 1002, 1003, 1007, 1008, 1009, 1010 -> reconnectOnProtocolError ? Verdict.retry()
                    : Verdict.fatal("the WebSocket was closed with " + code + " (" + CloseCodes.describe(code)
                    + "); reconnecting would fail the same way (set WebSocketVerdicts.Builder.reconnectOnProtocolError(true)"
                    + " to retry anyway)");
            case 1013 -> Verdict.retryAfter(tryAgainLaterDelay)
                    .withExplanation("close code 1013 (try again later): retry after at least " + tryAgainLaterDelay.toMillis() + " ms");
            default -> Verdict.retry();
        };
    }

    /**
     * A redirect (HTTP 301, 302, 303, 307, 308 with an absolute {@code Location}) becomes a
     * {@link Verdict.Kind#REDIRECT} to the same place over WebSocket ({@code http} to {@code ws},
     * {@code https} to {@code wss}).
     */
    private static Optional<Verdict> redirect(WebSocketUpgradeException u) {
        int s = u.status();
        if (u.location().isEmpty() || !(s == 301 || s == 302 || s == 303 || s == 307 || s == 308)) {
            return Optional.empty();
        }
        try {
            URI target = URI.create(u.location().get());
            String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
            String ws = switch (scheme) {
                case "http", "ws" -> "ws";
                case "https", "wss" -> "wss";
                default -> null;
            };
            if (ws == null) {
                return Optional.empty();
            }
            String mapped = ws + "://" + target.getRawAuthority() + (target.getRawPath() == null ? "" : target.getRawPath())
                    + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery());
            return Optional.of(Verdict.redirect(Endpoint.of(mapped)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** @return whether a close with 1000 from the peer reconnects */
    public boolean reconnectOnNormalClosure() {
        return reconnectOnNormalClosure;
    }

    /** @return whether 1002, 1003, 1007, 1008, 1009, 1010 reconnect */
    public boolean reconnectOnProtocolError() {
        return reconnectOnProtocolError;
    }

    /** @return close codes that make the next attempt ask for fresh credentials */
    public Set<Integer> refreshCredentialsOnCloseCodes() {
        return refreshCredentialsOnCloseCodes;
    }

    /** @return the least delay after 1013 or HTTP 429/503 without {@code Retry-After} */
    public Duration tryAgainLaterDelay() {
        return tryAgainLaterDelay;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebSocketVerdicts v && reconnectOnNormalClosure == v.reconnectOnNormalClosure
                && reconnectOnProtocolError == v.reconnectOnProtocolError
                && refreshCredentialsOnCloseCodes.equals(v.refreshCredentialsOnCloseCodes)
                && tryAgainLaterDelay.equals(v.tryAgainLaterDelay);
    }

    @Override
    public int hashCode() {
        return Objects.hash(reconnectOnNormalClosure, reconnectOnProtocolError, refreshCredentialsOnCloseCodes, tryAgainLaterDelay);
    }

    @Override
    public String toString() {
        return "WebSocketVerdicts{reconnectOnNormalClosure=" + reconnectOnNormalClosure + ", reconnectOnProtocolError="
                + reconnectOnProtocolError + ", refreshCredentialsOnCloseCodes=" + refreshCredentialsOnCloseCodes
                + ", tryAgainLaterDelay=" + tryAgainLaterDelay + "}";
    }

    /**
     * Builds a {@link WebSocketVerdicts}. Every setter validates at once and names the field and the bad value.
     */
    public static final class Builder {
        private boolean reconnectOnNormalClosure;
        private boolean reconnectOnProtocolError;
        private Set<Integer> refreshCredentialsOnCloseCodes = new LinkedHashSet<>();
        private Duration tryAgainLaterDelay = DEFAULT_TRY_AGAIN_LATER_DELAY;

        private Builder() {
        }

        private Builder(WebSocketVerdicts v) {
            reconnectOnNormalClosure = v.reconnectOnNormalClosure;
            reconnectOnProtocolError = v.reconnectOnProtocolError;
            refreshCredentialsOnCloseCodes = new LinkedHashSet<>(v.refreshCredentialsOnCloseCodes);
            tryAgainLaterDelay = v.tryAgainLaterDelay;
        }

        /**
         * @param reconnect whether a close with 1000 from the peer reconnects; default false (a goodbye for good)
         * @return this builder
         */
        public Builder reconnectOnNormalClosure(boolean reconnect) {
            this.reconnectOnNormalClosure = reconnect;
            return this;
        }

        /**
         * @param reconnect whether 1002, 1003, 1007, 1008, 1009, 1010 reconnect; default false
         * @return this builder
         */
        public Builder reconnectOnProtocolError(boolean reconnect) {
            this.reconnectOnProtocolError = reconnect;
            return this;
        }

        /**
         * @param codes close codes that mean "your credentials were refused" (e.g. 1008, 4401, 4403):
         *              the next attempt asks for fresh credentials; default none
         * @return this builder
         */
        public Builder refreshCredentialsOnCloseCodes(int... codes) {
            Set<Integer> set = new LinkedHashSet<>();
            for (int c : codes) {
                if (c < 1000 || c > 4999) {
                    throw new IllegalArgumentException("refreshCredentialsOnCloseCodes must be close codes 1000-4999, but got " + c);
                }
                set.add(c);
            }
            this.refreshCredentialsOnCloseCodes = set;
            return this;
        }

        /**
         * @param delay least delay after 1013 or HTTP 429/503 without {@code Retry-After};
         *              default {@link #DEFAULT_TRY_AGAIN_LATER_DELAY}
         * @return this builder
         */
        public Builder tryAgainLaterDelay(Duration delay) {
            Objects.requireNonNull(delay, "tryAgainLaterDelay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("tryAgainLaterDelay must not be negative, but was " + delay);
            }
            this.tryAgainLaterDelay = delay;
            return this;
        }

        /** @return the table */
        public WebSocketVerdicts build() {
            return new WebSocketVerdicts(this);
        }
    }
}
