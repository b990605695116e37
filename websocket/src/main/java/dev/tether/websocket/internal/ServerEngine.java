package dev.tether.websocket.internal;

import dev.tether.websocket.WebSocketSessionSpec;
import dev.tether.core.Initiator;
import dev.tether.websocket.AuthDecision;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.DrainReason;
import dev.tether.websocket.DrainReport;
import dev.tether.websocket.ServerEvent;
import dev.tether.websocket.SessionRegistry;
import dev.tether.websocket.UpgradeRequest;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketSession;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;

/**
 * The WebSocket server behind {@code WebSocketServer}: the listener, the session registry and the
 * drain sequence shared by stop and reload.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class ServerEngine implements SessionRegistry {

    private static final Logger log = LoggerFactory.getLogger(ServerEngine.class);
    private static final Duration ABORT_WAIT = Duration.ofSeconds(5);
    /** How often a drain looks for an admitted upgrade that has not registered its session yet. */
    private static final Duration LATE_UPGRADE_POLL = Duration.ofMillis(5);
    private static final AttributeKey<Admission> ADMISSION = AttributeKey.valueOf("tether.ws.admission");

    /** Where the server is in its life. */
    public enum State {
        /** Built, never started. */
        NEW,
        /** Binding the listener. */
        STARTING,
        /** Accepting upgrades. */
        RUNNING,
        /** Refusing upgrades with 503 and closing sessions. */
        DRAINING,
        /** The listener is closed. */
        STOPPED
    }

    private final ServerConfig config;
    private final SessionSettings settings;
    private final WebsocketServerSpec spec;
    private final Map<String, CloseHandshakeHandler> sessions = new ConcurrentHashMap<>();
    private final Sinks.Many<ServerEvent> events = Sinks.many().multicast().directBestEffort();
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final AtomicInteger refused = new AtomicInteger();
    private final java.util.Set<String> drained = ConcurrentHashMap.newKeySet();
    private final AtomicInteger admitted = new AtomicInteger();
    private final AtomicInteger pendingHandshakes = new AtomicInteger();
    private final Map<String, Integer> perAddress = new ConcurrentHashMap<>();
    private final AtomicInteger refusedByLimits = new AtomicInteger();
    private volatile @Nullable DisposableServer listener;
    private volatile int boundPort;
    private volatile @Nullable Disposable heartbeatTask;
    private volatile DrainReason drainReason = DrainReason.STOP;
    private volatile @Nullable Tally tally;
    private @Nullable Mono<DrainReport> currentDrain;

    /**
     * @param config the settings
     */
    public ServerEngine(ServerConfig config) {
        this.config = config;
        WebSocketSessionSpec session = config.session();
        this.settings = new SessionSettings(false, session.closeHandshakeTimeout(), session.closeHandshakeTimeout(),
                session.heartbeat(), null, session.maxFramePayload(), session.maxMessageBytes(), session.inboundBuffer(),
                config.scheduler(), config.limits().maxOutboundBytes(), session.lingerTimeout(), session.lingerBytes());
        WebsocketServerSpec.Builder b = WebsocketServerSpec.builder()
                .maxFramePayloadLength(session.maxFramePayload())
                .compress(session.compression())
                .handlePing(false);
        if (!config.subprotocols().isEmpty()) {
            b.protocols(String.join(",", config.subprotocols()));
        }
        this.spec = b.build();
    }

    // ------------------------------------------------------------------ life

    /** @return the state */
    public State state() {
        return java.util.Objects.requireNonNull(state.get(), "state");
    }

    /** @return the bound port, or 0 before the first start */
    public int port() {
        return boundPort;
    }

    /** @return the server's events, hot */
    public Flux<ServerEvent> events() {
        return events.asFlux();
    }

    /**
     * @return binds the listener (on the port of the last run, once one was chosen); completes when bound
     */
    public Mono<Void> start() {
        return Mono.defer(() -> {
            if (!state.compareAndSet(State.NEW, State.STARTING) && !state.compareAndSet(State.STOPPED, State.STARTING)) {
                return Mono.empty();
            }
            return bind().doOnError(e -> state.set(State.STOPPED));
        });
    }

    private Mono<Void> bind() {
        if (config.hosted()) {
            // The host's HTTP server accepts the connections: accepting upgrades is all there is to start.
            return Mono.fromRunnable(() -> {
                state.set(State.RUNNING);
                startAnnouncerHeartbeat();
                emit(new ServerEvent.Started(now(), 0));
                log.info("WebSocket server accepting upgrades on the host's HTTP server at {}", config.path());
            });
        }
        int p = boundPort != 0 ? boundPort : config.port();
        return config.httpServer().apply(HttpServer.create().host(config.host()).port(p))
                .doOnChannelInit((observer, channel, remote) -> onAccepted(channel))
                .doOnConnection(c -> channels.add(c.channel()))
                .handle(this::onRequest)
                .bind()
                .doOnNext(server -> {
                    listener = server;
                    boundPort = server.port();
                    state.set(State.RUNNING);
                    startAnnouncerHeartbeat();
                    emit(new ServerEvent.Started(now(), server.port()));
                    log.info("WebSocket server listening on {}:{}{}", config.host(), server.port(), config.path());
                })
                .then();
    }

    /**
     * @param reason stop or reload
     * @return the drain; a drain already running is shared
     */
    public Mono<DrainReport> drain(DrainReason reason) {
        return Mono.defer(() -> {
            synchronized (this) {
                if (currentDrain != null) {
                    return currentDrain;
                }
                if (!state.compareAndSet(State.RUNNING, State.DRAINING)) {
                    return Mono.just(new DrainReport(reason, 0, 0, 0, 0, Duration.ZERO));
                }
                drainReason = reason;
                drained.clear();
                refused.set(0);
                tally = new Tally();
                Mono<DrainReport> run = runDrain(reason).cache();
                currentDrain = run;
                // Cleared inside the drain, before its report reaches anyone (a subscriber told the drain is
                // over may stop again at once); on error, here.
                run.subscribe(null, e -> clearDrain());
                return run;
            }
        });
    }

    private synchronized void clearDrain() {
        currentDrain = null;
    }

    private Mono<DrainReport> runDrain(DrainReason reason) {
        long startNanos = System.nanoTime();
        Disposable hb = heartbeatTask;
        if (hb != null) {
            hb.dispose();
        }
        List<CloseHandshakeHandler> snapshot = new ArrayList<>(sessions.values());
        emit(new ServerEvent.DrainStarted(now(), reason, snapshot.size()));
        log.info("draining {} WebSocket sessions ({}, close code {}, bound {} ms)", snapshot.size(), reason,
                reason.closeCode(), config.drainTimeout().toMillis());
        snapshot.forEach(h -> closeForDrain(h, reason));
        Duration safety = config.drainTimeout().plusMillis(500);
        Set<String> awaited = new HashSet<>();
        return awaitClosed(snapshot, awaited)
                .timeout(safety, Mono.empty(), config.scheduler())
                .then(Mono.defer(this::abortRemaining))
                .then(Mono.defer(this::closeListener))
                .then(Mono.defer(() -> reason == DrainReason.RELOAD ? bind() : Mono.fromRunnable(() -> state.set(State.STOPPED))))
                .then(Mono.fromSupplier(() -> {
                    clearDrain();
                    Tally t = tally;
                    int clean = t == null ? 0 : t.clean.get();
                    int aborted = t == null ? 0 : t.aborted.get();
                    DrainReport report = new DrainReport(reason, clean + aborted, clean, aborted, refused.get(),
                            Duration.ofNanos(System.nanoTime() - startNanos));
                    tally = null;
                    emit(new ServerEvent.Drained(now(), report));
                    log.info("drain done: {}", report);
                    return report;
                }));
    }

    /**
     * Waits for the given sessions to close, then for the ones that registered since (an upgrade answered just
     * before the drain began registers after it and is told by {@link #onSession}), until no session is left and
     * no admitted upgrade is still on its way to one. The drain's bound cuts it short.
     */
    private Mono<Void> awaitClosed(List<CloseHandshakeHandler> batch, Set<String> awaited) {
        List<CloseHandshakeHandler> now = new ArrayList<>();
        for (CloseHandshakeHandler h : batch) {
            if (awaited.add(h.id())) {
                now.add(h);
            }
        }
        Mono<Void> closing = now.isEmpty() ? Mono.empty()
                : Flux.fromIterable(now).flatMap(CloseHandshakeHandler::closed, now.size()).then();
        return closing.then(Mono.defer(() -> {
            List<CloseHandshakeHandler> late = new ArrayList<>();
            for (CloseHandshakeHandler h : sessions.values()) {
                if (!awaited.contains(h.id())) {
                    late.add(h);
                }
            }
            if (!late.isEmpty()) {
                return awaitClosed(late, awaited);
            }
            if (admitted.get() > sessions.size()) {
                // Admitted, answered or being answered, not registered yet: look again shortly.
                return Mono.delay(LATE_UPGRADE_POLL, config.scheduler()).then(Mono.defer(() -> awaitClosed(List.of(), awaited)));
            }
            return Mono.empty();
        }));
    }

    private void closeForDrain(CloseHandshakeHandler h, DrainReason reason) {
        if (!drained.add(h.id())) {
            return; // already told: a session can be both in the snapshot and just opened
        }
        List<WebSocketMessage> goodbye = config.announcer().onDrain(h, reason);
        if (!goodbye.isEmpty()) {
            // Queued on the session's event loop before the close frame, so it goes out first.
            h.send(Flux.fromIterable(goodbye)).subscribe(null, e -> { });
        }
        h.close(reason.closeCode(), reason.closeReason(), Initiator.LOCAL_USER, config.drainTimeout(), CloseTimer.DRAIN_TIMEOUT)
                .subscribe();
    }

    private Mono<Void> abortRemaining() {
        List<CloseHandshakeHandler> left = new ArrayList<>(sessions.values());
        if (left.isEmpty()) {
            return Mono.empty();
        }
        log.warn("{} WebSocket sessions still open at the drain bound; aborting them", left.size());
        return Flux.fromIterable(left).flatMap(h -> h.abort(CloseTimer.DRAIN_TIMEOUT), Math.max(1, left.size()))
                .then()
                .timeout(ABORT_WAIT, Mono.empty(), config.scheduler());
    }

    private Mono<Void> closeListener() {
        DisposableServer l = listener;
        listener = null;
        if (l == null) {
            if (config.hosted()) {
                emit(new ServerEvent.Stopped(now(), 0));
            }
            return Mono.empty();
        }
        l.dispose();
        channels.close();
        return l.onDispose()
                .timeout(ABORT_WAIT, Mono.empty(), config.scheduler())
                .doFinally(s -> emit(new ServerEvent.Stopped(now(), boundPort)));
    }

    private void startAnnouncerHeartbeat() {
        Optional<Duration> interval = config.announcer().heartbeatInterval();
        if (interval.isEmpty()) {
            return;
        }
        Duration every = interval.get();
        heartbeatTask = config.scheduler().schedulePeriodically(() -> {
            for (CloseHandshakeHandler h : sessions.values()) {
                config.announcer().heartbeat(h, every).ifPresent(m -> h.send(m).subscribe(null, e -> { }));
            }
        }, every.toNanos(), every.toNanos(), TimeUnit.NANOSECONDS);
    }

    // ------------------------------------------------------------------ requests and sessions

    /** A TCP connection was accepted: bound the time it may take to become a session. */
    private void onAccepted(Channel channel) {
        ServerLimits limits = config.limits();
        Admission a = new Admission();
        channel.attr(ADMISSION).set(a);
        int pending;
        do {
            pending = pendingHandshakes.get();
            if (pending >= limits.maxPendingHandshakes()) {
                refusedByLimits.incrementAndGet();
                log.warn("{} TCP connections are waiting for their WebSocket upgrade (maxPendingHandshakes); closing {}",
                        pending, channel.remoteAddress());
                channel.close();
                return;
            }
        } while (!pendingHandshakes.compareAndSet(pending, pending + 1));
        a.pending = true;
        channel.closeFuture().addListener(f -> release(a));
        Disposable timer = config.scheduler().schedule(() -> {
            if (!a.upgraded && channel.isActive()) {
                log.debug("closing {}: no WebSocket upgrade within {} ms (handshakeTimeout)", channel.remoteAddress(),
                        limits.handshakeTimeout().toMillis());
                refusedByLimits.incrementAndGet();
                channel.close();
            }
        }, limits.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        channel.closeFuture().addListener(f -> timer.dispose());
    }

    /** Gives back what a connection held, once. */
    private void release(Admission a) {
        synchronized (a) {
            if (a.pending) {
                a.pending = false;
                pendingHandshakes.decrementAndGet();
            }
            if (a.admitted) {
                a.admitted = false;
                admitted.decrementAndGet();
                if (a.address != null) {
                    perAddress.computeIfPresent(a.address, (k, n) -> n <= 1 ? null : n - 1);
                }
            }
        }
    }

    private void upgraded(Channel channel) {
        Admission a = channel.attr(ADMISSION).get();
        if (a == null) {
            return;
        }
        synchronized (a) {
            a.upgraded = true;
            if (a.pending) {
                a.pending = false;
                pendingHandshakes.decrementAndGet();
            }
        }
    }

    /**
     * An upgrade request that the host's HTTP server routed here (hosted servers); the host decided the path.
     *
     * @param req the request
     * @param res its response
     * @return completes when the request is answered or the session is over
     */
    public Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
        return onRequest(req, res);
    }

    private Publisher<Void> onRequest(HttpServerRequest req, HttpServerResponse res) {
        if (state.get() != State.RUNNING) {
            refused.incrementAndGet();
            HttpServerResponse r = res.status(HttpResponseStatus.SERVICE_UNAVAILABLE).keepAlive(false);
            if (drainReason == DrainReason.RELOAD) {
                r = r.header(HttpHeaderNames.RETRY_AFTER, "1");
            }
            return r.send();
        }
        if (!config.hosted() && !new QueryStringDecoder(req.uri()).path().equals(config.path())) {
            return res.status(HttpResponseStatus.NOT_FOUND).keepAlive(false).send();
        }
        if (!req.requestHeaders().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            return res.status(HttpResponseStatus.UPGRADE_REQUIRED).header(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                    .keepAlive(false).send();
        }
        ServerLimits limits = config.limits();
        RateLimiter limiter = limits.rateLimiter();
        if (limiter != null && !limiter.acquirePermission()) {
            Duration period = limiter.getRateLimiterConfig().getLimitRefreshPeriod();
            return refuse(res, HttpResponseStatus.SERVICE_UNAVAILABLE, seconds(period),
                    "connect rate limit: at most " + limiter.getRateLimiterConfig().getLimitForPeriod() + " upgrades per "
                            + period.toMillis() + " ms");
        }
        Channel[] channel = new Channel[1];
        List<Certificate> certificates = new ArrayList<>();
        req.withConnection(c -> {
            channel[0] = c.channel();
            SslHandler ssl = c.channel().pipeline().get(SslHandler.class);
            if (ssl != null) {
                try {
                    certificates.addAll(List.of(ssl.engine().getSession().getPeerCertificates()));
                } catch (javax.net.ssl.SSLPeerUnverifiedException noClientCertificate) {
                    // the client presented none: fine unless the TLS settings require one
                }
            }
        });
        Admission a = channel[0] == null ? null : channel[0].attr(ADMISSION).get();
        if (a == null) {
            a = new Admission(); // a connection we did not see accepted (custom transport): count it here
            if (channel[0] != null) {
                Admission fresh = a;
                channel[0].closeFuture().addListener(f -> release(fresh));
            }
        }
        InetSocketAddress remote = req.remoteAddress() != null ? req.remoteAddress() : new InetSocketAddress(0);
        String address = remote.getAddress() != null ? remote.getAddress().getHostAddress() : remote.getHostString();
        synchronized (a) {
            if (!a.admitted) {
                int total = admitted.incrementAndGet();
                if (total > limits.maxSessions()) {
                    admitted.decrementAndGet();
                    return refuse(res, HttpResponseStatus.SERVICE_UNAVAILABLE, seconds(limits.retryAfter()),
                            "server full: " + limits.maxSessions() + " sessions (maxSessions)");
                }
                boolean[] room = {false};
                perAddress.compute(address, (k, n) -> {
                    int held = n == null ? 0 : n;
                    if (held >= limits.maxSessionsPerAddress()) {
                        return n;
                    }
                    room[0] = true;
                    return held + 1;
                });
                if (!room[0]) {
                    admitted.decrementAndGet();
                    return refuse(res, HttpResponseStatus.TOO_MANY_REQUESTS, seconds(limits.retryAfter()),
                            "too many sessions from " + address + ": " + limits.maxSessionsPerAddress() + " (maxSessionsPerAddress)");
                }
                a.admitted = true;
                a.address = address;
            }
        }
        UpgradeRequest request = UpgradeRequest.of(req.uri(), headersOf(req), remote, certificates);
        return Mono.defer(() -> limits.authenticator().authenticate(request))
                .onErrorResume(e -> {
                    log.warn("WebSocket authenticator failed for {} ({}); refusing with 500", request, e.getClass().getName());
                    return Mono.empty();
                })
                .map(java.util.Optional::of)
                .defaultIfEmpty(java.util.Optional.empty())
                .flatMap(decision -> {
                    if (decision.isEmpty()) {
                        return Mono.from(refuse(res, HttpResponseStatus.INTERNAL_SERVER_ERROR, null,
                                "authentication failed"));
                    }
                    if (decision.get() instanceof AuthDecision.Refused r) {
                        refusedByLimits.incrementAndGet();
                        log.debug("refused WebSocket upgrade {} with {}: {}", request, r.status(), r.reason());
                        HttpServerResponse out = res;
                        if (r.challenge() != null) {
                            out = out.header(HttpHeaderNames.WWW_AUTHENTICATE, r.challenge());
                        }
                        return Mono.from(refuse(out, HttpResponseStatus.valueOf(r.status()), null, r.reason()));
                    }
                    AuthDecision.Accepted ok = (AuthDecision.Accepted) decision.get();
                    return Mono.from(res.sendWebsocket((in, out) -> onSession(in, ok), spec));
                });
    }

    private Publisher<Void> refuse(HttpServerResponse res, HttpResponseStatus status, @Nullable Long retryAfterSeconds,
                                   String reason) {
        if (status.code() != 401 && status.code() != 403) {
            refusedByLimits.incrementAndGet();
            log.debug("refusing a WebSocket upgrade with {}: {}", status.code(), reason);
        }
        HttpServerResponse r = res.status(status).keepAlive(false)
                .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        if (retryAfterSeconds != null) {
            r = r.header(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds));
        }
        return r.sendString(Mono.just(reason + "\n"));
    }

    private static long seconds(Duration d) {
        long s = d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0);
        return Math.max(1, s);
    }

    private static Map<String, List<String>> headersOf(HttpServerRequest req) {
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        for (String name : req.requestHeaders().names()) {
            out.put(name, req.requestHeaders().getAll(name));
        }
        return out;
    }

    /** What one TCP connection holds of the server's limits. Guarded by itself. */
    private static final class Admission {
        boolean pending;
        boolean upgraded;
        boolean admitted;
        @Nullable String address;
    }

    private Publisher<Void> onSession(WebsocketInbound in, AuthDecision.Accepted accepted) {
        AtomicReference<@Nullable CloseHandshakeHandler> created = new AtomicReference<>();
        in.withConnection(c -> {
            upgraded(c.channel());
            CloseHandshakeHandler h = new CloseHandshakeHandler(c.channel(), settings, in.selectedSubprotocol());
            h.authenticated(accepted);
            h.observer(new RegistryObserver(h));
            created.set(h);
            c.addHandlerLast(CloseHandshakeHandler.NAME, h);
        });
        CloseHandshakeHandler h = created.get();
        if (h == null) {
            return Mono.empty();
        }
        if (h.state() == dev.tether.websocket.CloseState.CLOSED) {
            return Mono.empty();
        }
        sessions.put(h.id(), h);
        emit(new ServerEvent.SessionOpened(now(), h.id(), h.remoteAddress()));
        if (state.get() != State.RUNNING) {
            // Upgraded while a drain began: it gets the same goodbye.
            closeForDrain(h, drainReason);
            return h.closed().then();
        }
        List<WebSocketMessage> hello = config.announcer().onOpen(h);
        if (!hello.isEmpty()) {
            h.send(Flux.fromIterable(hello)).subscribe(null, e -> { });
        }
        Disposable app = Flux.from(config.handler().apply(h)).subscribe(null, err -> {
            log.warn("WebSocket session {} handler failed; closing it with 1011: {}", h.id(), err.toString());
            h.close(1011, "internal error").subscribe();
        });
        Disposable expiry = scheduleExpiry(h, accepted);
        return h.closed().doFinally(s -> {
            app.dispose();
            expiry.dispose();
        }).then();
    }

    private Disposable scheduleExpiry(CloseHandshakeHandler h, AuthDecision.Accepted accepted) {
        Instant at = accepted.expiresAt();
        if (at == null) {
            return Disposables.disposed();
        }
        long delayMillis = Math.max(0, at.toEpochMilli() - now().toEpochMilli());
        int code = config.limits().credentialsExpiredCloseCode();
        return config.scheduler().schedule(() -> {
            log.info("closing WebSocket session {} with {}: its credentials expired at {}", h.id(), code, at);
            h.close(code, "credentials expired").subscribe();
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** Keeps the registry and the event stream up to date with one session. */
    private final class RegistryObserver implements SessionObserver {
        private final CloseHandshakeHandler session;

        RegistryObserver(CloseHandshakeHandler session) {
            this.session = session;
        }

        @Override
        public void closeSent(int code, String reason) {
            emit(new ServerEvent.CloseSent(now(), session.id(), code, reason));
        }

        @Override
        public void closeReceived(int code, String reason) {
            emit(new ServerEvent.CloseReceived(now(), session.id(), code, reason));
        }

        @Override
        public void closed(CloseSummary summary) {
            sessions.remove(session.id());
            Tally t = tally;
            if (t != null) {
                (summary.clean() ? t.clean : t.aborted).incrementAndGet();
            }
            emit(new ServerEvent.SessionClosed(now(), session.id(), summary));
        }
    }

    /** Counts of one drain. */
    private static final class Tally {
        final AtomicInteger clean = new AtomicInteger();
        final AtomicInteger aborted = new AtomicInteger();
    }

    // ------------------------------------------------------------------ registry

    @Override
    public int count() {
        return sessions.size();
    }

    /** @return TCP connections accepted and not yet upgraded (nor closed) */
    public int pendingHandshakes() {
        return pendingHandshakes.get();
    }

    /** @return sessions plus admitted upgrades in progress, as counted against maxSessions */
    public int admittedCount() {
        return admitted.get();
    }

    /** @return remote addresses with an admitted connection */
    public int addressesTracked() {
        return perAddress.size();
    }

    /** @return upgrades and connections refused or closed by a limit or the authenticator since the server was built */
    public int refusedByLimits() {
        return refusedByLimits.get();
    }

    @Override
    public Collection<WebSocketSession> all() {
        return List.copyOf(sessions.values());
    }

    @Override
    public Optional<WebSocketSession> get(String id) {
        return Optional.ofNullable(sessions.get(id));
    }

    @Override
    public Mono<Integer> broadcast(WebSocketMessage message) {
        return Flux.fromIterable(List.copyOf(sessions.values()))
                .flatMap(s -> s.send(message).thenReturn(1).onErrorResume(e -> Mono.empty()), 256)
                .count()
                .map(Long::intValue);
    }

    @Override
    public Mono<CloseSummary> close(String id, int code, String reason) {
        CloseCodes.checkSendable(code, reason);
        return Mono.defer(() -> {
            CloseHandshakeHandler h = sessions.get(id);
            return h == null ? Mono.empty() : h.close(code, reason);
        });
    }

    @Override
    public Mono<List<CloseSummary>> closeAll(int code, String reason) {
        CloseCodes.checkSendable(code, reason);
        return Mono.defer(() -> {
            List<CloseHandshakeHandler> all = List.copyOf(sessions.values());
            return Flux.fromIterable(all).flatMap(h -> h.close(code, reason), Math.max(1, all.size())).collectList();
        });
    }

    // ------------------------------------------------------------------ plumbing

    private void emit(ServerEvent event) {
        synchronized (events) {
            events.tryEmitNext(event);
        }
    }

    private Instant now() {
        return Instant.ofEpochMilli(config.scheduler().now(TimeUnit.MILLISECONDS));
    }
}
