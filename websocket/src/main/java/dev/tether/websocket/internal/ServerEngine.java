package dev.tether.websocket.internal;

import dev.tether.core.Initiator;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.DrainReason;
import dev.tether.websocket.DrainReport;
import dev.tether.websocket.ServerEvent;
import dev.tether.websocket.SessionRegistry;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketSession;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
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
 */
public final class ServerEngine implements SessionRegistry {

    private static final Logger log = LoggerFactory.getLogger(ServerEngine.class);
    private static final Duration ABORT_WAIT = Duration.ofSeconds(5);

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
        this.settings = new SessionSettings(false, config.closeHandshakeTimeout(), config.closeHandshakeTimeout(),
                config.heartbeat(), null, config.maxFramePayload(), config.maxMessageBytes(), config.inboundBuffer(),
                config.scheduler());
        WebsocketServerSpec.Builder b = WebsocketServerSpec.builder()
                .maxFramePayloadLength(config.maxFramePayload())
                .compress(config.compression())
                .handlePing(false);
        if (!config.subprotocols().isEmpty()) {
            b.protocols(String.join(",", config.subprotocols()));
        }
        this.spec = b.build();
    }

    // ------------------------------------------------------------------ life

    /** @return the state */
    public State state() {
        return state.get();
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
        int p = boundPort != 0 ? boundPort : config.port();
        return config.httpServer().apply(HttpServer.create().host(config.host()).port(p))
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
                run.subscribe(r -> clearDrain(), e -> clearDrain());
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
        return Flux.fromIterable(snapshot).flatMap(CloseHandshakeHandler::closed, Math.max(1, snapshot.size()))
                .then()
                .timeout(safety, Mono.empty(), config.scheduler())
                .then(Mono.defer(this::abortRemaining))
                .then(Mono.defer(this::closeListener))
                .then(Mono.defer(() -> reason == DrainReason.RELOAD ? bind() : Mono.fromRunnable(() -> state.set(State.STOPPED))))
                .then(Mono.fromSupplier(() -> {
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

    private Publisher<Void> onRequest(HttpServerRequest req, HttpServerResponse res) {
        if (state.get() != State.RUNNING) {
            refused.incrementAndGet();
            HttpServerResponse r = res.status(HttpResponseStatus.SERVICE_UNAVAILABLE).keepAlive(false);
            if (drainReason == DrainReason.RELOAD) {
                r = r.header(HttpHeaderNames.RETRY_AFTER, "1");
            }
            return r.send();
        }
        if (!new QueryStringDecoder(req.uri()).path().equals(config.path())) {
            return res.status(HttpResponseStatus.NOT_FOUND).keepAlive(false).send();
        }
        if (!req.requestHeaders().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            return res.status(HttpResponseStatus.UPGRADE_REQUIRED).header(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                    .keepAlive(false).send();
        }
        return res.sendWebsocket((in, out) -> onSession(in), spec);
    }

    private Publisher<Void> onSession(WebsocketInbound in) {
        AtomicReference<@Nullable CloseHandshakeHandler> created = new AtomicReference<>();
        in.withConnection(c -> {
            CloseHandshakeHandler h = new CloseHandshakeHandler(c.channel(), settings, in.selectedSubprotocol());
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
        return h.closed().doFinally(s -> app.dispose()).then();
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
