package dev.tether.mqtt.internal;

import dev.tether.core.spi.Attempt;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.spi.Connector;
import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.FailureClassifier;
import dev.tether.core.Initiator;
import dev.tether.core.Verdict;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttVerdicts;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.NetUtil;
import io.netty.handler.ssl.SslHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.ssl.SslContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;
import reactor.core.scheduler.Schedulers;

/**
 * Opens one MQTT connection per attempt over TCP, TLS, WebSocket or WSS (chosen by the endpoint's
 * scheme), with the MQTT codec and the protocol handler installed before CONNECT is sent.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class MqttConnector implements Connector<MqttSession> {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MqttConnector.class);
    /**
     * One receive-buffer sizer for all TCP and TLS channels: the allocator holds only settings (each channel's
     * handle keeps its own state), and Netty would give every channel an allocator of its own. 16 messages per
     * read, as Netty sets for a socket channel.
     */
    private static final AdaptiveRecvByteBufAllocator RECEIVE_BUFFERS = receiveBuffers();

    private final MqttClientConfig config;
    private final ClientCore core;
    /**
     * The engine's timers when they run on an event loop (the default): TCP and TLS channels are registered on that
     * loop, so a reconnect's timer, attempt and channel share one thread. Null with a scheduler of the user's.
     */
    private final @Nullable EventLoopScheduler timers;
    /**
     * The endpoints that refused MQTT 5: later attempts on them speak MQTT 3.1.1 at once. An immutable set replaced
     * on a change (rare), so that a client that never fell back holds no set of its own.
     */
    private volatile java.util.Set<Endpoint> fellBack = java.util.Set.of();
    private volatile @Nullable SslContext defaultSsl;

    /**
     * @param config the client settings
     * @param core   the state shared by all connections of the client
     */
    public MqttConnector(MqttClientConfig config, ClientCore core, @Nullable EventLoopScheduler timers) {
        this.config = config;
        this.core = core;
        this.timers = timers;
    }

    private static AdaptiveRecvByteBufAllocator receiveBuffers() {
        AdaptiveRecvByteBufAllocator a = new AdaptiveRecvByteBufAllocator();
        a.maxMessagesPerRead(16);
        return a;
    }

    /**
     * @param endpoint an endpoint
     * @throws IllegalArgumentException if its scheme is not one the client speaks
     */
    public static void validateScheme(Endpoint endpoint) {
        Scheme.of(endpoint);
    }

    @Override
    public FailureClassifier classifier() {
        return MqttVerdicts.connack();
    }

    /**
     * @param endpoint an endpoint
     * @return the version the next attempt on it speaks first: MQTT 3.1.1 once it refused MQTT 5, else the configured one
     */
    MqttVersion versionFor(Endpoint endpoint) {
        return fellBack.contains(endpoint) ? MqttVersion.MQTT_3_1_1 : config.version();
    }

    /**
     * One attempt. A broker that refuses MQTT 5 (see {@code MqttClient.Builder#versionFallback}) gets a second
     * connection with MQTT 3.1.1 within the same attempt, at once: no backoff, no failure counted, the same
     * endpoint and credentials. The version is remembered for the endpoint once the 3.1.1 connection got a CONNACK,
     * or at once when the broker said so in a CONNACK.
     */
    @Override
    public Mono<EstablishedSession<MqttSession>> connect(Attempt attempt) {
        Endpoint ep = attempt.endpoint();
        MqttVersion first = versionFor(ep);
        return open(attempt, first).onErrorResume(MqttConnection.VersionRefusal.class, refusal -> {
            if (!config.fallsBack()) {
                return Mono.error(refused(ep, refusal));
            }
            if (!refusal.closedBeforeConnack) {
                fallBack(ep);
            }
            String lost = ConnectPackets.lostInFallback(config);
            attempt.reportNotice(MqttClient.Builder.VERSION_FALLBACK_NOTICE, "the broker at " + ep + " " + refusal.answer
                    + ": connecting again with MQTT 3.1.1 now" + (refusal.closedBeforeConnack
                    ? " (if that is closed too, the version was not the reason)" : "; remembered for this endpoint")
                    + ". Not carried over: " + lost);
            log.info("{} refused MQTT 5 ({}); connecting with MQTT 3.1.1", ep, refusal.answer);
            return open(attempt, MqttVersion.MQTT_3_1_1)
                    .doOnNext(est -> remember(ep))
                    .onErrorResume(e -> {
                        if (refusal.closedBeforeConnack && closedBeforeConnack(e)) {
                            return Mono.error(new ConnectionFailedException("the broker at " + ep + " closed the connection "
                                    + "before CONNACK after an MQTT 5 CONNECT and again after an MQTT 3.1.1 CONNECT, so the "
                                    + "version was not the reason", Initiator.REMOTE_PEER, -1, null, e));
                        }
                        if (e instanceof dev.tether.mqtt.MqttConnackRefusedException) {
                            // A 3.1.1 CONNACK, even a refusal, says the broker speaks 3.1.1.
                            remember(ep);
                        }
                        return Mono.error(e);
                    });
        });
    }

    private void remember(Endpoint ep) {
        if (fallBack(ep)) {
            log.info("{} speaks MQTT 3.1.1: later connections to it start with 3.1.1", ep);
        }
    }

    /** @return whether the endpoint was not remembered as speaking MQTT 3.1.1 before */
    private synchronized boolean fallBack(Endpoint ep) {
        java.util.Set<Endpoint> known = fellBack;
        if (known.contains(ep)) {
            return false;
        }
        java.util.Set<Endpoint> more = new java.util.HashSet<>(known);
        more.add(ep);
        fellBack = java.util.Set.copyOf(more);
        return true;
    }

    private static boolean closedBeforeConnack(Throwable e) {
        return e instanceof MqttConnection.ClosedBeforeConnack closed && closed.silent;
    }

    /** The failure of an attempt whose version refusal the client does not fall back from. */
    private ConnectionFailedException refused(Endpoint ep, MqttConnection.VersionRefusal refusal) {
        String what = "the broker at " + ep + " " + refusal.answer;
        String change = config.authenticationMethod() != null
                ? "authenticationMethod(\"" + config.authenticationMethod() + "\") needs MQTT 5 (MQTT 3.1.1 has no enhanced "
                + "authentication), so the client does not fall back: use a broker that speaks MQTT 5, or drop "
                + "authenticationMethod to send the secret as an MQTT 3.1.1 password"
                : "the client is pinned to MQTT 5 (versionFallback(false)): set versionFallback(true) to fall back to "
                + "MQTT 3.1.1, or version(MQTT_3_1_1)";
        Verdict verdict = refusal.closedBeforeConnack
                // Not a certain refusal: a few tries, then give up rather than loop.
                ? Verdict.retry().withMaxConsecutive(MqttVerdicts.UNSPECIFIED_MAX_CONSECUTIVE)
                        // No endpoint in it: the engine counts equal verdicts, and failover must not reset the count.
                        .withExplanation("the broker closes the connection after an MQTT 5 CONNECT; if it does not speak"
                                + " MQTT 5, " + change)
                : Verdict.fatal(what + ": it does not speak MQTT 5; " + change);
        return new ConnectionFailedException(what + (refusal.closedBeforeConnack ? " (if it does not speak MQTT 5, "
                + change + ")" : "; " + change), Initiator.REMOTE_PEER, refusal.code().orElse(-1), verdict, refusal.getCause());
    }

    private Mono<EstablishedSession<MqttSession>> open(Attempt attempt, MqttVersion version) {
        return Mono.create(sink -> {
            Scheme scheme = Scheme.of(attempt.endpoint());
            AtomicReference<@Nullable MqttConnection> handler = new AtomicReference<>();
            // Reactor Netty does not close a socket whose connect is cancelled before it hands the
            // connection over; hold the channel from its creation so a cancel always closes it.
            ChannelGuard guard = new ChannelGuard();
            Disposable opening = scheme.webSocket ? openWebSocket(attempt, version, scheme, sink, handler, guard)
                    : openTcp(attempt, version, scheme, sink, handler, guard);
            sink.onCancel(() -> {
                opening.dispose();
                MqttConnection h = handler.get();
                if (h != null) {
                    h.abortNow();
                }
                guard.cancel(() -> { });
            });
            // A graceful close while connecting: once CONNECT is out the broker holds the Will, so the connection
            // waits for CONNACK and says DISCONNECT; before that nothing reached the broker and closing is enough.
            Disposable closing = attempt.closeRequested().subscribe(mode -> {
                // Set before the handler is read; install() sets the handler before reading this: one of them sees
                // the other, so either the connection takes the close or no CONNECT is ever sent.
                guard.closeRequested = mode;
                MqttConnection h = handler.get();
                if (h != null) {
                    h.closeDuringConnect(mode);
                    return;
                }
                opening.dispose();
                guard.cancel(() -> sink.error(closedBeforeConnect(attempt)));
            });
            sink.onDispose(closing);
        });
    }

    /** The client is closed for good: publishes and subscribers still waiting fail or complete (see {@link ClientCore#shutdown}). */
    @Override
    public void closed(@Nullable Throwable cause) {
        core.shutdown(cause);
    }

    /** A graceful close during an attempt goes to the attempt: see {@link MqttConnection#closeDuringConnect}. */
    @Override
    public boolean closesAttemptsGracefully() {
        return true;
    }

    /**
     * TCP and TLS go straight through a Netty bootstrap on Reactor Netty's TCP event loops: an attempt is a
     * channel with the MQTT handlers, and Reactor Netty's connection operations (its per-connect configuration,
     * resolver and bridge, about a millisecond of work per reconnect when the code is not hot, measured in
     * docs/benchmarks.md) add nothing the MQTT handlers use. A host name is resolved off the event loop by the
     * JDK's resolver (the system's hosts file and DNS, its cache); an IP literal needs no lookup.
     */
    private Disposable openTcp(Attempt attempt, MqttVersion version, Scheme scheme, MonoSink<EstablishedSession<MqttSession>> sink,
                               AtomicReference<@Nullable MqttConnection> handler, ChannelGuard guard) {
        Endpoint ep = attempt.endpoint();
        String host = ep.host();
        int port = ep.port(scheme.defaultPort);
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            connectTcp(new InetSocketAddress(host, port), attempt, version, scheme, sink, handler, guard);
            return guard;
        }
        Disposable resolving = Mono.fromCallable(() -> new InetSocketAddress(InetAddress.getByName(host), port))
                .subscribeOn(Schedulers.boundedElastic())
                .subscribe(address -> connectTcp(address, attempt, version, scheme, sink, handler, guard),
                        err -> sink.error(new ConnectionFailedException("cannot connect to " + ep + ": cannot resolve " + host
                                + " (" + err + ")", Initiator.REMOTE_PEER, -1, null, err)));
        return () -> {
            resolving.dispose();
            guard.dispose();
        };
    }

    private void connectTcp(InetSocketAddress address, Attempt attempt, MqttVersion version, Scheme scheme,
                            MonoSink<EstablishedSession<MqttSession>> sink, AtomicReference<@Nullable MqttConnection> handler,
                            ChannelGuard guard) {
        Endpoint ep = attempt.endpoint();
        SslContext ssl = scheme.tls ? ssl() : null;
        // Kept here, not looked up in the pipeline: a channel closed before the listener below runs has no handlers.
        AtomicReference<@Nullable SslHandler> tlsHandler = new AtomicReference<>();
        EventLoopGroup loops = TcpResources.get().onClient(LoopResources.DEFAULT_NATIVE);
        ConnectTimeout timeout = new ConnectTimeout(address, connectTimeoutMillis());
        EventLoop timersLoop = timers != null ? timers.liveLoop() : null;
        // A ChannelInitializer's work without its per-instance concurrent set (garbage on every connect): Netty
        // calls handlerAdded once the channel is registered, on its event loop, before the connect starts.
        io.netty.channel.ChannelHandler setUp = new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(io.netty.channel.ChannelHandlerContext ctx) {
                Channel ch = ctx.channel();
                try {
                    guard.opened(ch);
                    timeout.start(ch);
                    if (ssl != null) {
                        SslHandler tls = ssl.newHandler(ch.alloc(), ep.host(), address.getPort());
                        tls.setHandshakeTimeoutMillis(connectTimeoutMillis());
                        TlsSettings.verifyHostName(tls);
                        ch.pipeline().addLast("tether.mqtt.tls", tls);
                        tlsHandler.set(tls);
                    }
                } catch (RuntimeException e) {
                    // As a ChannelInitializer does: the channel is closed, which fails the connect.
                    log.warn("cannot set up the channel to {}: {}", address, e.toString());
                    ch.close();
                } finally {
                    ctx.pipeline().remove(this);
                }
            }
        };
        ChannelPromise connecting;
        try {
            connecting = openChannel(timersLoop != null ? timersLoop : loops,
                    CHANNEL_FACTORIES.get(TcpResources.get().onChannelClass(SocketChannel.class, loops)), setUp, address);
        } catch (RuntimeException e) {
            sink.error(new ConnectionFailedException("cannot open a socket to " + ep + ": " + e.getMessage(),
                    Initiator.LOCAL_DETECTION, -1, null, e));
            return;
        }
        timeout.watch(connecting);
        connecting.addListener((ChannelFutureListener) connected -> {
            Channel ch = connected.channel();
            if (!connected.isSuccess()) {
                if (!guard.isDisposed()) {
                    sink.error(new ConnectionFailedException("cannot connect to " + ep + ": " + connected.cause().getMessage(),
                            Initiator.REMOTE_PEER, -1, null, connected.cause()));
                }
                return;
            }
            if (guard.isDisposed()) {
                ch.close();
                return;
            }
            SslHandler tls = tlsHandler.get();
            if (tls == null) {
                installIfOpen(ch, attempt, version, scheme, sink, handler, guard);
                return;
            }
            // As before with Reactor Netty: the MQTT handlers come once the handshake succeeded, so a refused
            // certificate is a TLS failure of the attempt, not a connection closed before CONNACK.
            tls.handshakeFuture().addListener(handshake -> {
                if (handshake.isSuccess()) {
                    installIfOpen(ch, attempt, version, scheme, sink, handler, guard);
                    return;
                }
                ch.close();
                Throwable err = handshake.cause();
                ConnectionFailedException failure = TlsSettings.tlsFailure(ep, err);
                sink.error(failure != null ? failure : new ConnectionFailedException("cannot connect to " + ep + ": "
                        + err.getMessage(), Initiator.REMOTE_PEER, -1, null, err));
            });
        });
    }

    /**
     * What {@code Bootstrap.connect} does for this client, without a {@code Bootstrap}: a new one per connect copied
     * its option and attribute maps on every connect (close to a tenth of the bytes a connect allocated). The
     * channel gets its options, the set-up handler, a registration on the loop, then the connect, which closes the
     * channel if it fails.
     *
     * @return the connect's promise (its channel is the new channel)
     * @throws RuntimeException if no channel could be made (no file descriptor left, for example)
     */
    private static ChannelPromise openChannel(EventLoopGroup loop, io.netty.channel.ChannelFactory<Channel> factory,
                                              io.netty.channel.ChannelHandler setUp, InetSocketAddress address) {
        Channel ch = factory.newChannel();
        try {
            io.netty.channel.ChannelConfig config = ch.config();
            config.setOption(ChannelOption.TCP_NODELAY, true);
            config.setRecvByteBufAllocator(RECEIVE_BUFFERS);
            // Netty's own connect timer stays referenced from the channel for its whole life: ConnectTimeout's is let go.
            config.setConnectTimeoutMillis(0);
            ch.pipeline().addLast(setUp);
        } catch (RuntimeException e) {
            // Not registered yet: its socket is closed here, as Bootstrap does.
            ch.unsafe().closeForcibly();
            throw e;
        }
        ChannelPromise connecting = ch.newPromise();
        loop.register(ch).addListener((ChannelFutureListener) registered -> {
            if (!registered.isSuccess()) {
                if (ch.isRegistered()) {
                    ch.close();
                } else {
                    ch.unsafe().closeForcibly();
                }
                connecting.tryFailure(registered.cause());
                return;
            }
            ch.connect(address, connecting).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        });
        return connecting;
    }

    /**
     * Installs the MQTT handlers on a TCP or TLS channel that is still open; a loopback connect can complete, and
     * the peer close, before the connect's listener runs, and a closed channel would never tell the handlers.
     */
    private void installIfOpen(Channel ch, Attempt attempt, MqttVersion version, Scheme scheme,
                               MonoSink<EstablishedSession<MqttSession>> sink,
                               AtomicReference<@Nullable MqttConnection> handler, ChannelGuard guard) {
        if (!ch.isActive()) {
            sink.error(new ConnectionFailedException("the connection to " + attempt.endpoint()
                    + " closed before CONNECT could be sent", Initiator.REMOTE_PEER, -1, null, null));
            return;
        }
        install(ch, attempt, version, TransportCloser.TCP, null, scheme.name, sink, handler, guard);
    }

    private Disposable openWebSocket(Attempt attempt, MqttVersion version, Scheme scheme, MonoSink<EstablishedSession<MqttSession>> sink,
                                     AtomicReference<@Nullable MqttConnection> handler, ChannelGuard guard) {
        Endpoint ep = attempt.endpoint();
        Credentials creds = attempt.credentials();
        Map<String, String> headers = config.webSocketHeaders().apply(creds);
        Map<String, String> query = config.webSocketQuery().apply(creds);
        String path = ep.uri().getRawPath() == null || ep.uri().getRawPath().isEmpty() ? "/mqtt" : ep.uri().getRawPath();
        StringBuilder q = new StringBuilder(ep.uri().getRawQuery() == null ? "" : ep.uri().getRawQuery());
        query.forEach((k, v) -> {
            if (q.length() > 0) {
                q.append('&');
            }
            q.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
        String uri = (scheme.tls ? "wss://" : "ws://") + hostForUri(ep.host()) + ":" + ep.port(scheme.defaultPort) + path
                + (q.length() == 0 ? "" : "?" + q);
        HttpClient http = HttpClient.create(ConnectionProvider.newConnection())
                .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis())
                .doOnChannelInit((observer, channel, address) -> guard.opened(channel))
                .headers(h -> headers.forEach(h::set));
        if (scheme.tls) {
            SslContext ssl = ssl();
            http = http.secure(spec -> spec.sslContext(ssl).handlerConfigurator(TlsSettings::verifyHostName));
        }
        WebsocketClientSpec spec = WebsocketClientSpec.builder().protocols("mqtt")
                .maxFramePayloadLength(config.maxPacketSize()).handlePing(true).build();
        return http.websocket(spec).uri(uri).handle((in, out) -> {
            Sinks.Empty<Void> closed = Sinks.empty();
            in.withConnection(conn -> {
                conn.channel().closeFuture().addListener(f -> closed.tryEmitEmpty());
                WebSocketFraming framing = new WebSocketFraming(conn.channel(), config.maxPacketSize(), config.transportCloseTimeout(), attempt);
                install(conn.channel(), attempt, version, framing, framing, scheme.name, sink, handler, guard);
            });
            // Ends only when the channel is closed, so Reactor Netty never closes a live WebSocket itself.
            return closed.asMono();
        }).subscribe(null, err -> sink.error(webSocketFailure(ep, err)), () -> {
            ConnectionFailedException closed = new ConnectionFailedException("the WebSocket to " + ep + " closed before CONNACK",
                    Initiator.REMOTE_PEER, -1, null, null);
            MqttConnection h = handler.get();
            if (h != null && h.eventLoop() != null) {
                // The connection's own account comes first (channelInactive runs after the close future's listeners,
                // where this completion starts): it knows whether this was a likely version refusal.
                h.afterFinish(() -> sink.error(closed));
            } else {
                sink.error(closed);
            }
        });
    }

    private void install(Channel ch, Attempt attempt, MqttVersion version, TransportCloser closer,
                         @Nullable WebSocketFraming framing, String transport,
                         MonoSink<EstablishedSession<MqttSession>> sink, AtomicReference<@Nullable MqttConnection> handler,
                         ChannelGuard guard) {
        PacketFramer framer = new PacketFramer(config.maxPacketSize(), config.incompletePacketTimeout(), attempt.scheduler());
        MqttConnection mqtt = new MqttConnection(config, core, attempt, closer, transport, sink, version, framer);
        handler.set(mqtt);
        if (guard.closeRequested != null) {
            // Closed before CONNECT could be sent: the broker knows nothing of this client.
            ch.close().addListener(f -> sink.error(closedBeforeConnect(attempt)));
            return;
        }
        ChannelPipeline p = ch.pipeline();
        String before = p.get(NettyPipeline.ReactiveBridge) != null ? NettyPipeline.ReactiveBridge : null;
        if (framing != null) {
            add(p, before, "tether.mqtt.websocket", framing.handler());
        }
        // No MQTT decoder yet: the framer reads CONNACK itself and adds Netty's decoder only when a packet it does
        // not read arrives (an AUTH or DISCONNECT before CONNACK, a SUBACK...).
        add(p, before, "tether.mqtt.framer", framer);
        if (framing != null) {
            add(p, before, "tether.mqtt.websocket.refusals", framing.refusals());
        }
        // Netty's MqttEncoder has no context of its own: the connection handler calls it (MqttConnection#write).
        add(p, before, "tether.mqtt.connection", mqtt);
    }

    private static ConnectionFailedException closedBeforeConnect(Attempt attempt) {
        return new ConnectionFailedException("closed by the user before CONNECT was sent to " + attempt.endpoint(),
                Initiator.LOCAL_USER, -1, null, null);
    }

    private static void add(ChannelPipeline p, @Nullable String before, String name, io.netty.channel.ChannelHandler h) {
        if (before != null) {
            p.addBefore(before, name, h);
        } else {
            p.addLast(name, h);
        }
    }

    private static Throwable webSocketFailure(Endpoint ep, Throwable err) {
        ConnectionFailedException tls = TlsSettings.tlsFailure(ep, err);
        if (tls != null) {
            return tls;
        }
        if (err instanceof WebSocketClientHandshakeException hs && hs.response() != null) {
            int status = hs.response().status().code();
            Verdict verdict;
            String hint;
            if (status == 401 || status == 403) {
                verdict = Verdict.refreshCredentials();
                hint = "the credentials were refused";
            } else if (status == 429 || status == 503) {
                verdict = Verdict.retryAfter(retryAfter(hs.response().headers().get("Retry-After")));
                hint = "the server asks to come back later";
            } else if (status >= 500) {
                verdict = Verdict.retry();
                hint = "server error";
            } else {
                verdict = Verdict.fatal("the WebSocket upgrade to " + ep + " was refused with HTTP " + status
                        + "; check the path and that the server speaks MQTT over WebSocket (subprotocol mqtt)");
                hint = "check the path";
            }
            return new ConnectionFailedException("the WebSocket upgrade to " + ep + " was refused with HTTP " + status
                    + " (" + hint + ")", Initiator.REMOTE_PEER, status, verdict, err);
        }
        return new ConnectionFailedException("cannot open the WebSocket to " + ep + ": " + err.getMessage(),
                Initiator.REMOTE_PEER, -1, null, err);
    }

    private static Duration retryAfter(@Nullable String header) {
        if (header != null) {
            try {
                return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim())));
            } catch (NumberFormatException ignored) {
                // An HTTP date: fall back to the default busy delay.
            }
        }
        return MqttVerdicts.BUSY_MIN_DELAY;
    }

    private int connectTimeoutMillis() {
        return (int) Math.min(Integer.MAX_VALUE, config.connackTimeout().toMillis());
    }

    private SslContext ssl() {
        SslContext configured = config.sslContext();
        if (configured != null) {
            return configured;
        }
        SslContext ssl = defaultSsl;
        if (ssl == null) {
            ssl = TlsSettings.clientContext(null, null, null, null);
            defaultSsl = ssl;
        }
        return ssl;
    }

    private static String hostForUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The transports, by URI scheme. */
    private enum Scheme {
        TCP("tcp", false, false, 1883),
        TLS("ssl", true, false, 8883),
        WS("ws", false, true, 80),
        WSS("wss", true, true, 443);

        final String name;
        final boolean tls;
        final boolean webSocket;
        final int defaultPort;

        Scheme(String name, boolean tls, boolean webSocket, int defaultPort) {
            this.name = name;
            this.tls = tls;
            this.webSocket = webSocket;
            this.defaultPort = defaultPort;
        }

        static Scheme of(Endpoint endpoint) {
            return switch (endpoint.scheme()) {
                case "tcp", "mqtt" -> TCP;
                case "ssl", "tls", "mqtts" -> TLS;
                case "ws" -> WS;
                case "wss" -> WSS;
                default -> throw new IllegalArgumentException("endpoint scheme '" + endpoint.scheme() + "' of " + endpoint
                        + " is not supported: use tcp, mqtt, ssl, tls, mqtts, ws or wss");
            };
        }
    }

    /**
     * One channel factory per channel class, for all connects: {@code Bootstrap.channel(Class)} makes a new one each
     * time, which looks the constructor up by reflection again (copies of the class's constructors) and checks access
     * on the fresh copy: garbage on every connect and reconnect.
     */
    private static final ClassValue<io.netty.channel.ChannelFactory<Channel>> CHANNEL_FACTORIES = new ClassValue<>() {
        @Override
        protected io.netty.channel.ChannelFactory<Channel> computeValue(Class<?> type) {
            return new io.netty.channel.ReflectiveChannelFactory<>(type.asSubclass(Channel.class));
        }
    };

    /**
     * The TCP connect timeout, as Netty's {@code CONNECT_TIMEOUT_MILLIS} does it (the connect fails with a
     * {@link ConnectTimeoutException} and the channel is closed), but with a timer that nothing keeps once the
     * connect has ended: Netty's channel keeps its own cancelled timer task as long as the connection lives.
     */
    private static final class ConnectTimeout implements Runnable, ChannelFutureListener {
        private final InetSocketAddress address;
        private final int millis;
        private volatile @Nullable Channel channel;
        private volatile @Nullable ChannelPromise connecting;
        private volatile io.netty.util.concurrent.@Nullable ScheduledFuture<?> timer;

        ConnectTimeout(InetSocketAddress address, int millis) {
            this.address = address;
            this.millis = millis;
        }

        /** On the channel's event loop, when it is registered, before its connect starts. */
        void start(Channel ch) {
            channel = ch;
            if (millis > 0) {
                timer = ch.eventLoop().schedule(this, millis, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }

        void watch(ChannelFuture future) {
            if (future instanceof ChannelPromise promise) {
                connecting = promise;
            }
            future.addListener(this);
        }

        @Override
        public void run() {
            Channel ch = channel;
            ChannelPromise promise = connecting;
            if (ch == null || (promise != null && promise.isDone())) {
                return;
            }
            if (promise == null || promise.tryFailure(new ConnectTimeoutException("connection timed out after " + millis
                    + " ms: " + address))) {
                ch.close();
            }
        }

        /** The connect ended: the timer goes, and nothing holds it. */
        @Override
        public void operationComplete(ChannelFuture future) {
            io.netty.util.concurrent.ScheduledFuture<?> t = timer;
            if (t != null) {
                timer = null;
                t.cancel(false);
            }
        }
    }

    /** The channel of one attempt, closed by whichever comes second: its creation or the attempt's cancel. */
    private static final class ChannelGuard implements Disposable {
        private final java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        private final AtomicReference<io.netty.channel.@Nullable Channel> channel = new AtomicReference<>();
        /** A graceful close the user asked for during the attempt. */
        volatile dev.tether.core.@Nullable CloseMode closeRequested;

        void opened(io.netty.channel.Channel ch) {
            channel.set(ch);
            if (cancelled.get()) {
                ch.close();
            }
        }

        /** Cancels the connect: the channel is closed now or as soon as it exists. */
        @Override
        public void dispose() {
            cancel(() -> { });
        }

        @Override
        public boolean isDisposed() {
            return cancelled.get();
        }

        /** @param whenClosed runs once the channel is closed, or at once if there is none yet */
        void cancel(Runnable whenClosed) {
            cancelled.set(true);
            io.netty.channel.Channel ch = channel.get();
            if (ch != null) {
                ch.close().addListener(f -> whenClosed.run());
            } else {
                whenClosed.run();
            }
        }
    }
}
