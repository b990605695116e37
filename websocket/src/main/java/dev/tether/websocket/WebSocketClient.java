package dev.tether.websocket;

import dev.tether.core.internal.Require;
import dev.tether.core.spi.Attempt;
import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.spi.Connector;
import dev.tether.core.Credentials;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.FailureClassifier;
import dev.tether.core.Verdict;
import dev.tether.websocket.internal.ClientConnect;
import dev.tether.websocket.internal.transport.Upgrades;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * A WebSocket client for the core engine: a {@link Connector} of {@link WebSocketSession}s.
 *
 * <pre>{@code
 * WebSocketClient client = WebSocketClient.builder()
 *         .heartbeat(Heartbeat.of(Duration.ofSeconds(10), Duration.ofSeconds(5)))
 *         .closeHandshakeTimeout(Duration.ofSeconds(2))
 *         .build();
 * ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(client)
 *         .endpoint(Endpoint.of("wss://bots.example.com/ws"))
 *         .credentials(tokens)
 *         .build()
 *         .start();
 * }</pre>
 *
 * <p>Headers, query parameters and subprotocols are computed for every attempt from the
 * {@link Attempt} (so a fresh token goes into each handshake); by default the credentials become an
 * {@code Authorization} header ({@code Bearer} for a token, {@code Basic} for user name and password),
 * every {@code header.*} credential attribute a header and every {@code query.*} attribute a query
 * parameter. For {@code wss} the server certificate and host name are always verified.
 * The close handshake, heartbeat and watchdog are Tether's own (see {@link WebSocketSession}); their
 * steps appear on the connection's lifecycle as {@code CloseSent}, {@code CloseReceived} and a
 * {@code Notice} of kind {@value #CLOSED_NOTICE} carrying the {@link CloseSummary}.
 *
 * <p>{@link #classifier()} implements the WebSocket verdict table: an HTTP redirect (3xx with
 * {@code Location}) sends the next attempt there; HTTP 401/403 refresh credentials;
 * HTTP 429/503 and close code 1013 retry later, honouring {@code Retry-After}; 1000 and protocol
 * errors (1002, 1003, 1007, 1009, 1010) and other HTTP 4xx do not reconnect unless configured;
 * 1001, 1006, 1011, 1012, 1014, HTTP 5xx and heartbeat loss retry.
 *
 * <p>Immutable and thread-safe; one client can serve many connections.
 */
public final class WebSocketClient implements Connector<WebSocketSession> {

    /** The kind of the {@code Notice} that carries a session's {@link CloseSummary}. */
    public static final String CLOSED_NOTICE = "websocket-closed";

    /** Default bound on the opening handshake (TCP, TLS and HTTP upgrade): 10 s. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Default wait for the peer's close frame after ours: 3 s. */
    public static final Duration DEFAULT_CLOSE_HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    /** Default wait for the server to close TCP after a completed close handshake: 1 s. */
    public static final Duration DEFAULT_TCP_CLOSE_WAIT = Duration.ofSeconds(1);
    /** Default largest frame payload, in and out: 4 MiB. */
    public static final int DEFAULT_MAX_FRAME_PAYLOAD = 4 * 1024 * 1024;
    /** Default largest inbound message (all fragments): 16 MiB. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    /** Default number of inbound messages held for a slow reader before reading pauses: 256. */
    public static final int DEFAULT_INBOUND_BUFFER = 256;
    /** Default least delay after 1013 or HTTP 429/503 without {@code Retry-After}: 5 s. */
    public static final Duration DEFAULT_TRY_AGAIN_LATER_DELAY = Duration.ofSeconds(5);
    /** Default time a lingering close reads and discards while waiting for the peer's close frame or FIN: 2 s. */
    public static final Duration DEFAULT_LINGER_TIMEOUT = Duration.ofSeconds(2);
    /** Default bytes a lingering close may discard before it closes TCP anyway: 16 MiB. */
    public static final long DEFAULT_LINGER_BYTES = 16L * 1024 * 1024;

    private final Function<Attempt, Map<String, String>> headers;
    private final Function<Attempt, Map<String, String>> query;
    private final Function<Attempt, List<String>> subprotocols;
    private final Duration handshakeTimeout;
    private final Duration closeHandshakeTimeout;
    private final Duration tcpCloseWait;
    private final Heartbeat heartbeat;
    private final @Nullable Duration watchdog;
    private final int maxFramePayload;
    private final int maxMessageBytes;
    private final int inboundBuffer;
    private final Duration lingerTimeout;
    private final long lingerBytes;
    private final boolean compression;
    private final @Nullable SslContext sslContext;
    private final UnaryOperator<HttpClient> httpClient;
    private final boolean reconnectOnNormalClosure;
    private final boolean reconnectOnProtocolError;
    private final Set<Integer> refreshCredentialsOnCloseCodes;
    private final Duration tryAgainLaterDelay;

    private WebSocketClient(Builder b) {
        this.headers = b.headers;
        this.query = b.query;
        this.subprotocols = b.subprotocols;
        this.handshakeTimeout = b.handshakeTimeout;
        this.closeHandshakeTimeout = b.closeHandshakeTimeout;
        this.tcpCloseWait = b.tcpCloseWait;
        this.heartbeat = b.heartbeat;
        this.watchdog = b.watchdog;
        this.maxFramePayload = b.maxFramePayload;
        this.maxMessageBytes = b.maxMessageBytes;
        this.inboundBuffer = b.inboundBuffer;
        this.lingerTimeout = b.lingerTimeout;
        this.lingerBytes = b.lingerBytes;
        this.compression = b.compression;
        this.sslContext = b.sslContext;
        this.httpClient = b.httpClient;
        this.reconnectOnNormalClosure = b.reconnectOnNormalClosure;
        this.reconnectOnProtocolError = b.reconnectOnProtocolError;
        this.refreshCredentialsOnCloseCodes = Set.copyOf(b.refreshCredentialsOnCloseCodes);
        this.tryAgainLaterDelay = b.tryAgainLaterDelay;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this client's settings */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * The default header mapping: {@code Authorization: Bearer <secret>} for credentials with only a
     * secret, {@code Authorization: Basic ...} for a user name and a secret, nothing otherwise.
     *
     * @param credentials the attempt's credentials
     * @return the {@code Authorization} header value, if the credentials hold a secret
     */
    public static Optional<String> authorizationHeader(Credentials credentials) {
        Optional<String> secret = credentials.secret();
        if (secret.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> user = credentials.username();
        if (user.isPresent()) {
            String basic = Base64.getEncoder().encodeToString((user.get() + ":" + secret.get()).getBytes(StandardCharsets.UTF_8));
            return Optional.of("Basic " + basic);
        }
        return Optional.of("Bearer " + secret.get());
    }

    /**
     * The default handshake headers of an attempt: the {@code Authorization} header of
     * {@link #authorizationHeader(Credentials)}, then every {@code header.<Name>} attribute of the
     * credentials ({@link Credentials#headers()}); an explicit {@code header.Authorization} wins.
     *
     * @param credentials the attempt's credentials
     * @return the headers, possibly empty
     */
    public static Map<String, String> defaultHeaders(Credentials credentials) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        Map<String, String> explicit = credentials.headers();
        boolean explicitAuthorization = explicit.keySet().stream().anyMatch(k -> k.equalsIgnoreCase("Authorization"));
        if (!explicitAuthorization) {
            authorizationHeader(credentials).ifPresent(v -> out.put("Authorization", v));
        }
        out.putAll(explicit);
        return java.util.Collections.unmodifiableMap(out);
    }

    /**
     * The default query parameters of an attempt: every {@code query.<name>} attribute of the credentials
     * ({@link Credentials#queryParameters()}).
     *
     * @param credentials the attempt's credentials
     * @return the parameters, possibly empty
     */
    public static Map<String, String> defaultQuery(Credentials credentials) {
        return credentials.queryParameters();
    }

    @Override
    public Mono<EstablishedSession<WebSocketSession>> connect(Attempt attempt) {
        return ClientConnect.connect(this, attempt);
    }

    @Override
    public FailureClassifier classifier() {
        return this::classify;
    }

    private Optional<Verdict> classify(Throwable failure) {
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
            java.net.URI target = java.net.URI.create(u.location().get());
            String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(java.util.Locale.ROOT);
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
            return Optional.of(Verdict.redirect(dev.tether.core.Endpoint.of(mapped)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
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
                    + "(set WebSocketClient.Builder.reconnectOnNormalClosure(true) to reconnect anyway)");
            case 1002, 1003, 1007, 1008, 1009, 1010 -> reconnectOnProtocolError ? Verdict.retry()
                    : Verdict.fatal("the WebSocket was closed with " + code + " (" + dev.tether.websocket.internal.CloseCodes.describe(code)
                    + "); reconnecting would fail the same way (set reconnectOnProtocolError(true) to retry anyway)");
            case 1013 -> Verdict.retryAfter(tryAgainLaterDelay)
                    .withExplanation("close code 1013 (try again later): retry after at least " + tryAgainLaterDelay.toMillis() + " ms");
            default -> Verdict.retry();
        };
    }

    // ---- settings, read by the implementation ----

    /** @return the per-attempt header function */
    public Function<Attempt, Map<String, String>> headers() {
        return headers;
    }

    /** @return the per-attempt query function */
    public Function<Attempt, Map<String, String>> query() {
        return query;
    }

    /** @return the per-attempt subprotocol function */
    public Function<Attempt, List<String>> subprotocols() {
        return subprotocols;
    }

    /** @return the opening handshake bound */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** @return the wait for the peer's close frame */
    public Duration closeHandshakeTimeout() {
        return closeHandshakeTimeout;
    }

    /** @return the wait for the server's FIN after the close handshake */
    public Duration tcpCloseWait() {
        return tcpCloseWait;
    }

    /** @return the heartbeat */
    public Heartbeat heartbeat() {
        return heartbeat;
    }

    /** @return the application watchdog period, if any */
    public Optional<Duration> watchdog() {
        return Optional.ofNullable(watchdog);
    }

    /** @return the largest frame payload */
    public int maxFramePayload() {
        return maxFramePayload;
    }

    /** @return the largest inbound message */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** @return the inbound buffer size in messages */
    public int inboundBuffer() {
        return inboundBuffer;
    }

    /** @return how long a lingering close reads and discards, waiting for the peer's close frame or FIN */
    public Duration lingerTimeout() {
        return lingerTimeout;
    }

    /** @return how many bytes a lingering close may discard before it closes TCP anyway */
    public long lingerBytes() {
        return lingerBytes;
    }

    /** @return whether permessage-deflate is offered */
    public boolean compression() {
        return compression;
    }

    /** @return the TLS context for {@code wss}, if one was given (otherwise the JDK defaults) */
    public Optional<SslContext> sslContext() {
        return Optional.ofNullable(sslContext);
    }

    /** @return the customizer of the underlying Reactor Netty client */
    public UnaryOperator<HttpClient> httpClient() {
        return httpClient;
    }

    @Override
    public String toString() {
        return "WebSocketClient{handshakeTimeout=" + handshakeTimeout.toMillis() + " ms, closeHandshakeTimeout="
                + closeHandshakeTimeout.toMillis() + " ms, tcpCloseWait=" + tcpCloseWait.toMillis() + " ms, " + heartbeat
                + (watchdog == null ? "" : ", watchdog=" + watchdog.toMillis() + " ms") + ", maxFramePayload=" + maxFramePayload
                + ", maxMessageBytes=" + maxMessageBytes + ", lingerTimeout=" + lingerTimeout.toMillis() + " ms, lingerBytes="
                + lingerBytes + ", compression=" + compression + "}";
    }

    /**
     * Builds a {@link WebSocketClient}. Every setter validates at once and names the field and the bad value.
     */
    public static final class Builder {
        private Function<Attempt, Map<String, String>> headers = a -> defaultHeaders(a.credentials());
        private Function<Attempt, Map<String, String>> query = a -> defaultQuery(a.credentials());
        private Function<Attempt, List<String>> subprotocols = a -> List.of();
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration closeHandshakeTimeout = DEFAULT_CLOSE_HANDSHAKE_TIMEOUT;
        private Duration tcpCloseWait = DEFAULT_TCP_CLOSE_WAIT;
        private Heartbeat heartbeat = Heartbeat.defaults();
        private @Nullable Duration watchdog;
        private int maxFramePayload = DEFAULT_MAX_FRAME_PAYLOAD;
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private int inboundBuffer = DEFAULT_INBOUND_BUFFER;
        private Duration lingerTimeout = DEFAULT_LINGER_TIMEOUT;
        private long lingerBytes = DEFAULT_LINGER_BYTES;
        private boolean compression;
        private @Nullable SslContext sslContext;
        private UnaryOperator<HttpClient> httpClient = UnaryOperator.identity();
        private boolean reconnectOnNormalClosure;
        private boolean reconnectOnProtocolError;
        private Set<Integer> refreshCredentialsOnCloseCodes = new LinkedHashSet<>();
        private Duration tryAgainLaterDelay = DEFAULT_TRY_AGAIN_LATER_DELAY;

        private Builder() {
        }

        private Builder(WebSocketClient c) {
            headers = c.headers;
            query = c.query;
            subprotocols = c.subprotocols;
            handshakeTimeout = c.handshakeTimeout;
            closeHandshakeTimeout = c.closeHandshakeTimeout;
            tcpCloseWait = c.tcpCloseWait;
            heartbeat = c.heartbeat;
            watchdog = c.watchdog;
            maxFramePayload = c.maxFramePayload;
            maxMessageBytes = c.maxMessageBytes;
            inboundBuffer = c.inboundBuffer;
            lingerTimeout = c.lingerTimeout;
            lingerBytes = c.lingerBytes;
            compression = c.compression;
            sslContext = c.sslContext;
            httpClient = c.httpClient;
            reconnectOnNormalClosure = c.reconnectOnNormalClosure;
            reconnectOnProtocolError = c.reconnectOnProtocolError;
            refreshCredentialsOnCloseCodes = new LinkedHashSet<>(c.refreshCredentialsOnCloseCodes);
            tryAgainLaterDelay = c.tryAgainLaterDelay;
        }

        /**
         * @param headers computes the handshake headers for each attempt (e.g. from its fresh credentials);
         *                replaces the default mapping ({@link #defaultHeaders(Credentials)}: {@code Authorization}
         *                from the secret plus every {@code header.*} attribute)
         * @return this builder
         */
        public Builder headers(Function<Attempt, Map<String, String>> headers) {
            this.headers = Objects.requireNonNull(headers, "headers");
            return this;
        }

        /**
         * @param query computes query parameters added to the endpoint URI for each attempt; default the
         *              {@code query.*} attributes of the attempt's credentials ({@link #defaultQuery(Credentials)})
         * @return this builder
         */
        public Builder query(Function<Attempt, Map<String, String>> query) {
            this.query = Objects.requireNonNull(query, "query");
            return this;
        }

        /**
         * @param subprotocols computes the offered subprotocols for each attempt; default none
         * @return this builder
         */
        public Builder subprotocols(Function<Attempt, List<String>> subprotocols) {
            this.subprotocols = Objects.requireNonNull(subprotocols, "subprotocols");
            return this;
        }

        /**
         * @param subprotocols fixed subprotocols to offer, in order of preference
         * @return this builder
         */
        public Builder subprotocols(String... subprotocols) {
            List<String> list = List.of(subprotocols);
            for (String p : list) {
                if (p.isBlank() || p.contains(",")) {
                    throw new IllegalArgumentException("subprotocols must be non-blank tokens without commas, but got '" + p + "'");
                }
            }
            this.subprotocols = a -> list;
            return this;
        }

        /**
         * @param timeout bound on TCP connect, TLS and the HTTP upgrade; default {@link #DEFAULT_HANDSHAKE_TIMEOUT}
         * @return this builder
         */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = Require.positive("handshakeTimeout", timeout);
            return this;
        }

        /**
         * @param timeout how long to wait for the peer's close frame after ours, then close TCP and report
         *                {@link CloseTimer#CLOSE_HANDSHAKE_TIMEOUT}; default {@link #DEFAULT_CLOSE_HANDSHAKE_TIMEOUT}
         * @return this builder
         */
        public Builder closeHandshakeTimeout(Duration timeout) {
            this.closeHandshakeTimeout = Require.positive("closeHandshakeTimeout", timeout);
            return this;
        }

        /**
         * @param wait how long to wait for the server to close TCP after the close handshake, then close
         *             it ourselves and report {@link CloseTimer#TCP_CLOSE_WAIT}; default {@link #DEFAULT_TCP_CLOSE_WAIT}
         * @return this builder
         */
        public Builder tcpCloseWait(Duration wait) {
            this.tcpCloseWait = Require.positive("tcpCloseWait", wait);
            return this;
        }

        /**
         * @param heartbeat ping settings; default {@link Heartbeat#defaults()}
         * @return this builder
         */
        public Builder heartbeat(Heartbeat heartbeat) {
            this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
            return this;
        }

        /**
         * @param period close the session (1011, then reconnect) when no application message arrived for this
         *               long, or null for no watchdog (the default). Catches a peer whose pongs flow but whose
         *               application is gone.
         * @return this builder
         */
        public Builder watchdog(@Nullable Duration period) {
            this.watchdog = period == null ? null : Require.positive("watchdog", period);
            return this;
        }

        /**
         * @param bytes the largest frame payload accepted and sent (longer messages are fragmented);
         *              default {@link #DEFAULT_MAX_FRAME_PAYLOAD}
         * @return this builder
         */
        public Builder maxFramePayload(int bytes) {
            if (bytes < 125) {
                throw new IllegalArgumentException("maxFramePayload must be >= 125 bytes, but was " + bytes);
            }
            this.maxFramePayload = bytes;
            return this;
        }

        /**
         * @param bytes the largest inbound message, all fragments together; beyond it the session is closed
         *              with 1009; default {@link #DEFAULT_MAX_MESSAGE_BYTES}
         * @return this builder
         */
        public Builder maxMessageBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxMessageBytes must be positive, but was " + bytes);
            }
            this.maxMessageBytes = bytes;
            return this;
        }

        /**
         * @param messages inbound messages held for a slow reader before reading from the socket pauses (it also
         *                 pauses once about {@code maxMessageBytes} are held);
         *                 default {@link #DEFAULT_INBOUND_BUFFER}
         * @return this builder
         */
        public Builder inboundBuffer(int messages) {
            if (messages < 1) {
                throw new IllegalArgumentException("inboundBuffer must be >= 1, but was " + messages);
            }
            this.inboundBuffer = messages;
            return this;
        }

        /**
         * @param timeout when the client closes because of what the server sent (a protocol error, a message
         *                or frame too big: 1002, 1007, 1009), it sends its close frame and keeps reading, discarding
         *                everything but the server's close frame, until that close frame or the server's FIN
         *                arrives or this time runs out (then it closes TCP and reports
         *                {@link CloseTimer#LINGER_TIMEOUT}). Closing at once with unread bytes would make the kernel
         *                send a reset that can destroy our close frame. Default {@link #DEFAULT_LINGER_TIMEOUT}
         * @return this builder
         */
        public Builder lingerTimeout(Duration timeout) {
            this.lingerTimeout = Require.positive("lingerTimeout", timeout);
            return this;
        }

        /**
         * @param bytes how many bytes a lingering close (see {@link #lingerTimeout(Duration)}) may read and discard
         *              before it closes TCP anyway and reports {@link CloseTimer#LINGER_BYTES}; nothing discarded is
         *              held in memory. A peer cannot stop in the middle of a frame, so a budget below the largest
         *              frame it may be sending lets that peer see a reset. Default {@link #DEFAULT_LINGER_BYTES}
         * @return this builder
         */
        public Builder lingerBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("lingerBytes must not be negative, but was " + bytes);
            }
            this.lingerBytes = bytes;
            return this;
        }

        /**
         * @param enabled whether to offer permessage-deflate; default false
         * @return this builder
         */
        public Builder compression(boolean enabled) {
            this.compression = enabled;
            return this;
        }

        /**
         * @param sslContext the TLS context for {@code wss} endpoints, or null for the JDK defaults
         * @return this builder
         */
        public Builder sslContext(@Nullable SslContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /**
         * @param customizer applied to the Reactor Netty {@link HttpClient} of every attempt (proxy,
         *                   resolver, metrics); default none
         * @return this builder
         */
        public Builder httpClient(UnaryOperator<HttpClient> customizer) {
            this.httpClient = Objects.requireNonNull(customizer, "httpClient");
            return this;
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

        /** @return the client */
        public WebSocketClient build() {
            return new WebSocketClient(this);
        }
    }
}
