package dev.tether.websocket;

import dev.tether.core.internal.Require;
import dev.tether.websocket.internal.ServerConfig;
import dev.tether.websocket.internal.CloseCodes;
import dev.tether.websocket.internal.ServerEngine;
import dev.tether.websocket.internal.ServerLimits;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * A WebSocket server that closes what it opened.
 *
 * <pre>{@code
 * WebSocketServer server = WebSocketServer.builder()
 *         .host("0.0.0.0").port(6700).path("/onebot")
 *         .announcer(OneBotAnnouncer.builder(10001).build())
 *         .handler(session -> session.receive().doOnNext(m -> handle(session, m)).then())
 *         .build();
 * server.start().block();
 * server.sessions().broadcast(WebSocketMessage.text(event)).subscribe();
 * DrainReport report = server.stop().block();   // 503 to new upgrades, goodbye, 1001, bounded drain
 * }</pre>
 *
 * <p><b>Stop and reload follow one drain sequence.</b> Upgrades arriving during the drain get HTTP
 * 503; every session gets the announcer's goodbye (e.g. the OneBot {@code disable} event) and a
 * close frame with 1001 ({@link #stop()}) or 1012 ({@link #reload()}), all concurrently; the close
 * handshakes have {@link Builder#drainTimeout(Duration)} to complete, and whatever is still open
 * then is aborted ({@link CloseTimer#DRAIN_TIMEOUT}). Then the listener is closed; a reload binds it
 * again on the same port. The {@link DrainReport} says how many sessions closed cleanly and how many
 * were aborted. No session outlives a stop.
 *
 * <p>After a completed close handshake the server closes TCP at once (RFC 6455 7.1.1). Each session
 * is pinged ({@link WebSocketSessionSpec#heartbeat()}) and closed when its pong is overdue.
 *
 * <p><b>Admission is guarded by default.</b> Every upgrade passes, in order: the connect rate limit
 * ({@link Builder#connectRateLimit(int, Duration)}, HTTP 503 with {@code Retry-After}), the session
 * limits ({@link Builder#maxSessions(int)}: 503, {@link Builder#maxSessionsPerAddress(int)}: 429, both
 * with {@code Retry-After}) and the {@link Authenticator} (401/403). A TCP connection that has not
 * upgraded within {@link Builder#handshakeTimeout(Duration)} is closed. A session whose peer does not
 * read is closed with 1013 once {@link Builder#maxOutboundBytes(long)} are queued for it; inbound
 * frames and messages beyond the size limits close it with 1009. {@link #stats()} shows the counts.
 *
 * <p><b>On a host's HTTP server.</b> A server built with {@link Builder#hosted(boolean) hosted(true)} binds no port:
 * the application's Reactor Netty HTTP server (its own, or Spring WebFlux's) routes the upgrade requests of its path
 * to {@link #handle(HttpServerRequest, HttpServerResponse)}, e.g. through {@link #routes(HttpServerRoutes)}, and
 * everything above still holds: authentication and limits before the 101, Tether's close handshake below Reactor
 * Netty's operations on the upgraded connection, heartbeat, the registry, the announcer and the drain on stop. TCP
 * accept, TLS and the bound from accept to upgrade are the host's then.
 *
 * <pre>{@code
 * WebSocketServer server = WebSocketServer.builder().hosted(true).path("/feed").handler(...).build();
 * DisposableServer http = HttpServer.create().port(8080)
 *         .route(r -> server.routes(r).get("/hello", (req, res) -> res.sendString(Mono.just("hi"))))
 *         .bindNow();
 * server.start().block();                      // accepts upgrades; until then and after a stop: 503
 * DrainReport report = server.stop().block();  // every session: goodbye, 1001, bounded drain
 * }</pre>
 *
 * <p>Usable without Spring. For Spring's {@code SmartLifecycle}, delegate {@code start()} to
 * {@code start().block()}, {@code stop(Runnable)} to {@link #stop(Runnable)}, {@code isRunning()}
 * to {@link #isRunning()} and {@code getPhase()} to {@link #getPhase()}.
 *
 * <p>Thread-safe.
 */
public final class WebSocketServer {

    /** Default bind address: all interfaces. */
    public static final String DEFAULT_HOST = "0.0.0.0";
    /** Default port: 0, any free port (kept across restarts once chosen). */
    public static final int DEFAULT_PORT = 0;
    /** Default upgrade path: {@code /}. */
    public static final String DEFAULT_PATH = "/";
    /** Default bound on a drain's close handshakes: 5 s. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(5);
    /** Default most open sessions (and upgrades in progress): 10,000. */
    public static final int DEFAULT_MAX_SESSIONS = 10_000;
    /** Default most open sessions from one remote IP address: 1,000. */
    public static final int DEFAULT_MAX_SESSIONS_PER_ADDRESS = 1_000;
    /** Default most TCP connections waiting for their upgrade: 1,000. */
    public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 1_000;
    /** Default bound from TCP accept to the upgrade: 10 s. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Default bytes queued for one session before it is closed as a slow consumer (1013): 8 MiB. */
    public static final long DEFAULT_MAX_OUTBOUND_BYTES = 8L * 1024 * 1024;
    /** Default connect rate limit: 1,000 upgrades ... */
    public static final int DEFAULT_CONNECT_RATE_LIMIT = 1_000;
    /** ... per second. */
    public static final Duration DEFAULT_CONNECT_RATE_PERIOD = Duration.ofSeconds(1);
    /** Default {@code Retry-After} with 503 and 429 refusals for full session limits: 5 s. */
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(5);
    /** Default close code for a session whose credentials expired: 1008 (policy violation). */
    public static final int DEFAULT_CREDENTIALS_EXPIRED_CLOSE_CODE = 1008;

    /** Default SmartLifecycle-style phase: late start, early stop, before the web server's own graceful shutdown. */
    public static final int DEFAULT_PHASE = Integer.MAX_VALUE - 2048;

    private final ServerConfig config;
    private final ServerEngine engine;
    private final int phase;
    private final Builder settings;

    private WebSocketServer(ServerConfig config, int phase, Builder settings) {
        this.config = config;
        this.engine = new ServerEngine(config);
        this.phase = phase;
        this.settings = settings;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder prefilled with this server's settings, for a second server like this one (a new
     * listener with its own sessions; a default connect rate limiter is not shared, a custom one is).
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /** @return the session spec every session of this server uses */
    public WebSocketSessionSpec session() {
        return config.session();
    }

    /**
     * Binds the listener; after a {@link #stop()} binds again on the same port. Lazy.
     *
     * @return completes when the listener is bound; does nothing if already running
     */
    public Mono<Void> start() {
        return engine.start();
    }

    /**
     * Drains every session with 1001 and closes the listener. Lazy; a drain in progress is shared.
     *
     * @return the report, once every session is closed and the listener released
     */
    public Mono<DrainReport> stop() {
        return engine.drain(DrainReason.STOP);
    }

    /**
     * Drains every session with 1012, then binds the listener again on the same port. Lazy.
     *
     * @return the report, once the listener accepts again
     */
    public Mono<DrainReport> reload() {
        return engine.drain(DrainReason.RELOAD);
    }

    /**
     * Stops and calls back when done, whatever happened (the shape of {@code SmartLifecycle.stop(Runnable)}).
     *
     * @param callback called once the stop finished or failed
     */
    public void stop(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        stop().subscribe(r -> { }, e -> callback.run(), callback);
    }

    /**
     * Stops and waits (the shape of Reactor Netty's {@code disposeNow}).
     *
     * @param timeout how long to wait at most
     * @return the report
     * @throws IllegalStateException if the stop did not finish in time
     */
    public DrainReport disposeNow(Duration timeout) {
        DrainReport r = stop().block(timeout);
        if (r == null) {
            throw new IllegalStateException("stop completed without a report");
        }
        return r;
    }

    /** @return whether the listener is bound (including during a drain) */
    public boolean isRunning() {
        ServerEngine.State s = engine.state();
        return s == ServerEngine.State.RUNNING || s == ServerEngine.State.DRAINING;
    }

    /** @return whether new upgrades are accepted now */
    public boolean isAccepting() {
        return engine.state() == ServerEngine.State.RUNNING;
    }

    /** @return the lifecycle phase for a {@code SmartLifecycle} adapter */
    public int getPhase() {
        return phase;
    }

    /** @return the bound port, or 0 before the first start and for a hosted server */
    public int port() {
        return engine.port();
    }

    /** @return whether this server is served by a host's HTTP server ({@link Builder#hosted(boolean)}) */
    public boolean isHosted() {
        return config.hosted();
    }

    /**
     * Answers an upgrade request that the host's Reactor Netty HTTP server routed to this hosted server: refusals
     * (503 before {@link #start()} and during a drain, 426 without an upgrade, the limits and the {@link Authenticator})
     * or the upgrade and the session. The host decides which requests come here (this method does not check the
     * path).
     *
     * @param request  the request, not yet answered
     * @param response its response
     * @return completes when the request was refused or, after an upgrade, when the session is over
     * @throws IllegalStateException if this server is not hosted (it serves its own listener)
     */
    public Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response) {
        if (!config.hosted()) {
            throw new IllegalStateException("handle() serves hosted servers only; this one listens on its own port "
                    + "(build it with hosted(true) to serve it on another HTTP server)");
        }
        return engine.handle(Objects.requireNonNull(request, "request"), Objects.requireNonNull(response, "response"));
    }

    /**
     * Mounts this hosted server on a Reactor Netty server's routes: {@code GET} on its {@link Builder#path(String) path}
     * goes to {@link #handle(HttpServerRequest, HttpServerResponse)}.
     *
     * @param routes the host's routes
     * @return the same routes, for more
     * @throws IllegalStateException if this server is not hosted
     */
    public HttpServerRoutes routes(HttpServerRoutes routes) {
        if (!config.hosted()) {
            throw new IllegalStateException("routes() mounts hosted servers only; this one listens on its own port "
                    + "(build it with hosted(true) to serve it on another HTTP server)");
        }
        return Objects.requireNonNull(routes, "routes").get(config.path(), this::handle);
    }

    /** @return the live sessions */
    public SessionRegistry sessions() {
        return engine;
    }

    /** @return the counts held against the server's limits, now */
    public ServerStats stats() {
        return new ServerStats(engine.count(), engine.admittedCount(), engine.pendingHandshakes(), engine.addressesTracked(),
                engine.refusedByLimits());
    }

    /**
     * Server and session events, hot and best effort: a subscriber that does not keep up misses events.
     *
     * @return the events
     */
    public Flux<ServerEvent> events() {
        return engine.events();
    }

    @Override
    public String toString() {
        String where = config.hosted() ? "hosted " : config.host() + ":" + (port() == 0 ? config.port() : port());
        return "WebSocketServer{" + where + config.path() + ", "
                + engine.state() + ", " + engine.count() + " sessions, announcer=" + config.announcer() + "}";
    }

    /**
     * Builds a {@link WebSocketServer}. Every setter validates at once and names the field and the bad value.
     */
    public static final class Builder {
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private String path = DEFAULT_PATH;
        private Function<WebSocketSession, Publisher<Void>> handler = s -> s.receive().then();
        private List<String> subprotocols = List.of();
        private WebSocketSessionSpec session = WebSocketSessionSpec.defaults();
        private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
        private LifecycleAnnouncer announcer = LifecycleAnnouncer.NONE;
        private @Nullable UnaryOperator<HttpServer> httpServer;
        private boolean hosted;
        private io.netty.handler.ssl.@Nullable SslContext sslContext;
        private @Nullable Scheduler scheduler;
        private int phase = DEFAULT_PHASE;
        private boolean customRateLimiter;
        private Authenticator authenticator = Authenticator.ALLOW_ALL;
        private int credentialsExpiredCloseCode = DEFAULT_CREDENTIALS_EXPIRED_CLOSE_CODE;
        private int maxSessions = DEFAULT_MAX_SESSIONS;
        private int maxSessionsPerAddress = DEFAULT_MAX_SESSIONS_PER_ADDRESS;
        private int maxPendingHandshakes = DEFAULT_MAX_PENDING_HANDSHAKES;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private long maxOutboundBytes = DEFAULT_MAX_OUTBOUND_BYTES;
        private @Nullable RateLimiter rateLimiter = defaultRateLimiter(DEFAULT_CONNECT_RATE_LIMIT, DEFAULT_CONNECT_RATE_PERIOD);
        private Duration retryAfter = DEFAULT_RETRY_AFTER;

        private Builder() {
        }

        private Builder(Builder b) {
            host = b.host;
            port = b.port;
            path = b.path;
            handler = b.handler;
            subprotocols = b.subprotocols;
            session = b.session;
            drainTimeout = b.drainTimeout;
            announcer = b.announcer;
            httpServer = b.httpServer;
            hosted = b.hosted;
            sslContext = b.sslContext;
            scheduler = b.scheduler;
            phase = b.phase;
            authenticator = b.authenticator;
            credentialsExpiredCloseCode = b.credentialsExpiredCloseCode;
            maxSessions = b.maxSessions;
            maxSessionsPerAddress = b.maxSessionsPerAddress;
            maxPendingHandshakes = b.maxPendingHandshakes;
            handshakeTimeout = b.handshakeTimeout;
            maxOutboundBytes = b.maxOutboundBytes;
            customRateLimiter = b.customRateLimiter;
            RateLimiter limiter = b.rateLimiter;
            rateLimiter = limiter == null || customRateLimiter ? limiter
                    : defaultRateLimiter(limiter.getRateLimiterConfig().getLimitForPeriod(),
                    limiter.getRateLimiterConfig().getLimitRefreshPeriod());
            retryAfter = b.retryAfter;
        }

        private static RateLimiter defaultRateLimiter(int permits, Duration period) {
            return RateLimiter.of("tether-websocket-upgrades", RateLimiterConfig.custom()
                    .limitForPeriod(permits)
                    .limitRefreshPeriod(period)
                    .timeoutDuration(Duration.ZERO)
                    .build());
        }

        /**
         * @param authenticator decides every upgrade before the 101 (401/403 refuse it); default
         *                      {@link Authenticator#ALLOW_ALL}
         * @return this builder
         */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
            return this;
        }

        /**
         * @param code the close code sent when a session's credentials expire (see
         *             {@link AuthDecision.Accepted#expiresAt()}), e.g. 4401; default
         *             {@link #DEFAULT_CREDENTIALS_EXPIRED_CLOSE_CODE}
         * @return this builder
         */
        public Builder credentialsExpiredCloseCode(int code) {
            if (!CloseCodes.sendable(code)) {
                throw new IllegalArgumentException("credentialsExpiredCloseCode must be a close code that may be sent "
                        + "(1000-1003, 1007-1014, 3000-4999), but was " + code);
            }
            this.credentialsExpiredCloseCode = code;
            return this;
        }

        /**
         * @param sessions open sessions (and upgrades in progress) beyond which upgrades get HTTP 503 with
         *                 {@code Retry-After}; default {@link #DEFAULT_MAX_SESSIONS}
         * @return this builder
         */
        public Builder maxSessions(int sessions) {
            if (sessions < 1) {
                throw new IllegalArgumentException("maxSessions must be >= 1, but was " + sessions);
            }
            this.maxSessions = sessions;
            return this;
        }

        /**
         * @param sessions open sessions from one remote IP address beyond which its upgrades get HTTP 429 with
         *                 {@code Retry-After}; default {@link #DEFAULT_MAX_SESSIONS_PER_ADDRESS}
         * @return this builder
         */
        public Builder maxSessionsPerAddress(int sessions) {
            if (sessions < 1) {
                throw new IllegalArgumentException("maxSessionsPerAddress must be >= 1, but was " + sessions);
            }
            this.maxSessionsPerAddress = sessions;
            return this;
        }

        /**
         * @param connections TCP connections waiting for their upgrade beyond which new ones are closed at once;
         *                    default {@link #DEFAULT_MAX_PENDING_HANDSHAKES}
         * @return this builder
         */
        public Builder maxPendingHandshakes(int connections) {
            if (connections < 1) {
                throw new IllegalArgumentException("maxPendingHandshakes must be >= 1, but was " + connections);
            }
            this.maxPendingHandshakes = connections;
            return this;
        }

        /**
         * @param timeout the bound from TCP accept to the upgrade (request, authentication, 101); a client that
         *                has not finished by then is disconnected; default {@link #DEFAULT_HANDSHAKE_TIMEOUT}
         * @return this builder
         */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = Require.positive("handshakeTimeout", timeout);
            return this;
        }

        /**
         * @param bytes bytes queued for one session (written, not yet taken by its socket) beyond which it is
         *              closed with 1013 as a slow consumer; one message larger than this still goes to an idle
         *              session; default {@link #DEFAULT_MAX_OUTBOUND_BYTES}
         * @return this builder
         */
        public Builder maxOutboundBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxOutboundBytes must be >= 1, but was " + bytes);
            }
            this.maxOutboundBytes = bytes;
            return this;
        }

        /**
         * @param permits upgrades allowed per period; beyond them HTTP 503 with {@code Retry-After} (the period,
         *                rounded up to seconds); default {@link #DEFAULT_CONNECT_RATE_LIMIT}
         * @param period  the period; default {@link #DEFAULT_CONNECT_RATE_PERIOD}
         * @return this builder
         */
        public Builder connectRateLimit(int permits, Duration period) {
            if (permits < 1) {
                throw new IllegalArgumentException("connectRateLimit permits must be >= 1, but was " + permits);
            }
            this.rateLimiter = defaultRateLimiter(permits, Require.positive("connectRateLimit period", period));
            this.customRateLimiter = false;
            return this;
        }

        /**
         * @param limiter a Resilience4j rate limiter shared with other parts of the application (its
         *                {@code timeoutDuration} should be zero: upgrades never wait for a permit), or null for
         *                no connect rate limit
         * @return this builder
         */
        public Builder connectRateLimiter(@Nullable RateLimiter limiter) {
            this.rateLimiter = limiter;
            this.customRateLimiter = limiter != null;
            return this;
        }

        /**
         * @param delay the {@code Retry-After} sent when {@link #maxSessions(int)} or {@link #maxSessionsPerAddress(int)}
         *              refuses an upgrade (rounded up to seconds); default {@link #DEFAULT_RETRY_AFTER}
         * @return this builder
         */
        public Builder retryAfter(Duration delay) {
            this.retryAfter = Require.positive("retryAfter", delay);
            return this;
        }

        /**
         * @param host the address to bind; default {@link #DEFAULT_HOST}
         * @return this builder
         */
        public Builder host(String host) {
            Objects.requireNonNull(host, "host");
            if (host.isBlank()) {
                throw new IllegalArgumentException("host must not be blank");
            }
            this.host = host;
            return this;
        }

        /**
         * @param port the port, 0 for any free one; default {@link #DEFAULT_PORT}
         * @return this builder
         */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, but was " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * @param path the upgrade path, starting with {@code /}; other paths get 404; default {@link #DEFAULT_PATH}
         * @return this builder
         */
        public Builder path(String path) {
            Objects.requireNonNull(path, "path");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with '/', but was '" + path + "'");
            }
            this.path = path;
            return this;
        }

        /**
         * @param handler the application's work for each session, subscribed when the session opens (after the
         *                announcer's hello) and cancelled when it closes. Its completion does not close the
         *                session; an error closes it with 1011. Default: read and discard inbound messages.
         *                A handler that never subscribes to {@link WebSocketSession#receive()} makes reading
         *                pause once the inbound buffer is full.
         * @return this builder
         */
        public Builder handler(Function<WebSocketSession, Publisher<Void>> handler) {
            this.handler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * @param subprotocols subprotocols the server accepts; default none
         * @return this builder
         */
        public Builder subprotocols(String... subprotocols) {
            this.subprotocols = List.of(subprotocols);
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
         * @param timeout how long a drain waits for the close handshakes before aborting the rest;
         *                default {@link #DEFAULT_DRAIN_TIMEOUT}
         * @return this builder
         */
        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = Require.positive("drainTimeout", timeout);
            return this;
        }

        /**
         * @param announcer hello, goodbye and heartbeat messages, e.g. {@link dev.tether.websocket.onebot.OneBotAnnouncer}; default none
         * @return this builder
         */
        public Builder announcer(LifecycleAnnouncer announcer) {
            this.announcer = Objects.requireNonNull(announcer, "announcer");
            return this;
        }







        /**
         * Serves {@code wss}: TLS with the given context (built with Netty's {@code SslContextBuilder.forServer};
         * set {@code clientAuth(ClientAuth.REQUIRE)} and a trust manager for client certificates, which the
         * {@link Authenticator} then sees as {@link UpgradeRequest#peerCertificates()}).
         *
         * @param sslContext the server TLS context, or null for plain {@code ws} (the default)
         * @return this builder
         */
        public Builder sslContext(io.netty.handler.ssl.@Nullable SslContext sslContext) {
            if (sslContext != null && sslContext.isClient()) {
                throw new IllegalArgumentException("sslContext must be a server context, but was a client context");
            }
            this.sslContext = sslContext;
            return this;
        }

        /**
         * @param hosted true to serve on a host's HTTP server ({@link WebSocketServer#handle(HttpServerRequest,
         *               HttpServerResponse)}, {@link WebSocketServer#routes(HttpServerRoutes)}) instead of a listener of
         *               its own; {@link #host(String)}, {@link #port(int)}, {@link #sslContext}, {@link #httpServer},
         *               {@link #handshakeTimeout(Duration)} and {@link #maxPendingHandshakes(int)} belong to the host
         *               then, and {@link #build()} refuses them; default false
         * @return this builder
         */
        public Builder hosted(boolean hosted) {
            this.hosted = hosted;
            return this;
        }

        /**
         * @param customizer applied to the Reactor Netty {@link HttpServer} (TLS, metrics, options); default none
         * @return this builder
         */
        public Builder httpServer(UnaryOperator<HttpServer> customizer) {
            this.httpServer = Objects.requireNonNull(customizer, "httpServer");
            return this;
        }

        /**
         * @param scheduler timers and clock; default {@link Schedulers#parallel()}
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * @param phase the value {@link #getPhase()} returns; default {@link #DEFAULT_PHASE}
         * @return this builder
         */
        public Builder phase(int phase) {
            this.phase = phase;
            return this;
        }

        /**
         * @return the server, not yet started
         * @throws IllegalStateException if a hosted server has a setting that belongs to its host
         */
        public WebSocketServer build() {
            if (hosted) {
                refuseForHosted("host", !host.equals(DEFAULT_HOST), host);
                refuseForHosted("port", port != DEFAULT_PORT, port);
                refuseForHosted("sslContext", sslContext != null, "a TLS context");
                refuseForHosted("httpServer", httpServer != null, "a customizer");
                refuseForHosted("handshakeTimeout", !handshakeTimeout.equals(DEFAULT_HANDSHAKE_TIMEOUT), handshakeTimeout);
                refuseForHosted("maxPendingHandshakes", maxPendingHandshakes != DEFAULT_MAX_PENDING_HANDSHAKES,
                        maxPendingHandshakes);
            }
            io.netty.handler.ssl.SslContext tls = sslContext;
            UnaryOperator<HttpServer> base = httpServer != null ? httpServer : UnaryOperator.identity();
            UnaryOperator<HttpServer> customizer = tls == null ? base
                    : s -> base.apply(s.secure(spec -> spec.sslContext(tls)));
            ServerConfig config = new ServerConfig(host, port, path, handler, subprotocols, session,
                    drainTimeout, announcer, customizer, scheduler != null ? scheduler : Schedulers.parallel(),
                    new ServerLimits(authenticator, credentialsExpiredCloseCode, maxSessions, maxSessionsPerAddress,
                            maxPendingHandshakes, handshakeTimeout, maxOutboundBytes, rateLimiter, retryAfter), hosted);
            return new WebSocketServer(config, phase, new Builder(this));
        }

        private static void refuseForHosted(String field, boolean set, Object value) {
            if (set) {
                throw new IllegalStateException(field + " (" + value + ") cannot be set on a hosted server: the host's "
                        + "HTTP server accepts the connections, so configure it there, or build without hosted(true)");
            }
        }
    }
}
