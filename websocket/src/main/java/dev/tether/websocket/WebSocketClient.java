package dev.tether.websocket;

import dev.tether.core.spi.Attempt;
import dev.tether.core.spi.Connector;
import dev.tether.core.Credentials;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.FailureClassifier;
import dev.tether.core.internal.Require;
import dev.tether.websocket.internal.ClientConnect;
import dev.tether.websocket.internal.ClientSettings;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 *         .session(s -> s.heartbeat(Heartbeat.of(Duration.ofSeconds(10), Duration.ofSeconds(5)))
 *                 .closeHandshakeTimeout(Duration.ofSeconds(2)))
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
 * <p>{@link #classifier()} applies the {@link WebSocketVerdicts} table ({@link Builder#verdicts(WebSocketVerdicts)}):
 * an HTTP redirect sends the next attempt there; HTTP 401/403 refresh credentials; HTTP 429/503 and
 * close code 1013 retry later; 1000, protocol errors and other HTTP 4xx do not reconnect unless
 * configured; the rest retry. The session itself behaves as its {@link WebSocketSessionSpec} says.
 *
 * <p>Immutable and thread-safe; one client can serve many connections.
 */
public final class WebSocketClient implements Connector<WebSocketSession> {

    /** Notice kind carrying the {@link CloseSummary} of each finished session. */
    public static final String CLOSED_NOTICE = "websocket-closed";
    /** Default bound on TCP connect, TLS and the HTTP upgrade: 10 s. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Default wait for the server to close TCP after the close handshake, before the client closes it: 1 s. */
    public static final Duration DEFAULT_TCP_CLOSE_WAIT = Duration.ofSeconds(1);

    private final ClientSettings settings;
    private final WebSocketVerdicts verdicts;

    private WebSocketClient(Builder b) {
        this.settings = new ClientSettings(b.headers, b.query, b.subprotocols, b.handshakeTimeout, b.tcpCloseWait, b.watchdog,
                b.session, b.sslContext, b.httpClient);
        this.verdicts = b.verdicts;
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
        return ClientConnect.connect(settings, attempt);
    }

    /** @return {@link #verdicts()} as the engine's classifier */
    @Override
    public FailureClassifier classifier() {
        return verdicts.classifier();
    }

    /** @return the session spec every connection of this client uses */
    public WebSocketSessionSpec session() {
        return settings.session();
    }

    /** @return the verdict table */
    public WebSocketVerdicts verdicts() {
        return verdicts;
    }

    /** @return the bound on TCP connect, TLS and the HTTP upgrade */
    public Duration handshakeTimeout() {
        return settings.handshakeTimeout();
    }

    @Override
    public String toString() {
        Duration watchdog = settings.watchdog();
        return "WebSocketClient{handshakeTimeout=" + settings.handshakeTimeout().toMillis() + " ms, tcpCloseWait="
                + settings.tcpCloseWait().toMillis() + " ms" + (watchdog == null ? "" : ", watchdog=" + watchdog.toMillis() + " ms")
                + ", tls=" + (settings.sslContext() == null ? "JDK defaults" : "custom") + ", " + settings.session() + ", "
                + verdicts + "}";
    }

    /**
     * Builds a {@link WebSocketClient}. Every setter validates at once and names the field and the bad value.
     */
    public static final class Builder {
        private Function<Attempt, Map<String, String>> headers = a -> defaultHeaders(a.credentials());
        private Function<Attempt, Map<String, String>> query = a -> defaultQuery(a.credentials());
        private Function<Attempt, List<String>> subprotocols = a -> List.of();
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration tcpCloseWait = DEFAULT_TCP_CLOSE_WAIT;
        private @Nullable Duration watchdog;
        private WebSocketSessionSpec session = WebSocketSessionSpec.defaults();
        private @Nullable SslContext sslContext;
        private UnaryOperator<HttpClient> httpClient = UnaryOperator.identity();
        private WebSocketVerdicts verdicts = WebSocketVerdicts.defaults();

        private Builder() {
        }

        private Builder(WebSocketClient c) {
            ClientSettings s = c.settings;
            headers = s.headers();
            query = s.query();
            subprotocols = s.subprotocols();
            handshakeTimeout = s.handshakeTimeout();
            tcpCloseWait = s.tcpCloseWait();
            watchdog = s.watchdog();
            session = s.session();
            sslContext = s.sslContext();
            httpClient = s.httpClient();
            verdicts = c.verdicts;
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
         * @param wait how long to wait for the server to close TCP after the close handshake, then close
         *             it ourselves and report {@link CloseTimer#TCP_CLOSE_WAIT}; default {@link #DEFAULT_TCP_CLOSE_WAIT}
         * @return this builder
         */
        public Builder tcpCloseWait(Duration wait) {
            this.tcpCloseWait = Require.positive("tcpCloseWait", wait);
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
         * @param session heartbeat, limits, inbound buffer, close handshake and lingering close of every session;
         *                default {@link WebSocketSessionSpec#defaults()}
         * @return this builder
         */
        public Builder session(WebSocketSessionSpec session) {
            this.session = Objects.requireNonNull(session, "session");
            return this;
        }

        /**
         * @param change applied to a builder of the current session spec, e.g.
         *               {@code session(s -> s.heartbeat(Heartbeat.disabled()))}
         * @return this builder
         */
        public Builder session(UnaryOperator<WebSocketSessionSpec.Builder> change) {
            this.session = change.apply(session.toBuilder()).build();
            return this;
        }

        /**
         * @param verdicts what the next attempt does after a refused upgrade or a close code;
         *                 default {@link WebSocketVerdicts#defaults()}
         * @return this builder
         */
        public Builder verdicts(WebSocketVerdicts verdicts) {
            this.verdicts = Objects.requireNonNull(verdicts, "verdicts");
            return this;
        }

        /**
         * @param change applied to a builder of the current verdict table, e.g.
         *               {@code verdicts(v -> v.reconnectOnNormalClosure(true))}
         * @return this builder
         */
        public Builder verdicts(UnaryOperator<WebSocketVerdicts.Builder> change) {
            this.verdicts = change.apply(verdicts.toBuilder()).build();
            return this;
        }

        /** @return the client */
        public WebSocketClient build() {
            return new WebSocketClient(this);
        }
    }
}
