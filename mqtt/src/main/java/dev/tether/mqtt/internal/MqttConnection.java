package dev.tether.mqtt.internal;

import dev.tether.core.spi.Attempt;
import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.Initiator;
import dev.tether.core.SessionEnd;
import dev.tether.core.Verdict;
import dev.tether.mqtt.MqttConnackRefusedException;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttProtocolException;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttVerdicts;
import dev.tether.mqtt.MqttVersion;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttUnsubAckMessage;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * One MQTT connection: the protocol handler placed after the MQTT codec. Sends CONNECT when added,
 * waits for CONNACK, runs the keepalive, answers and routes every packet, and says how the
 * connection ended. The packets themselves are built by {@link ConnectPackets} (CONNECT, CONNACK) and
 * {@link Packets} (the others); the client state they act on is {@link ClientCore}'s.
 *
 * <p>Its state is touched on the channel's event loop only; the writes ({@link PublishWriter},
 * {@link SubscribeWriter}, {@link AckWriter}) may be called from any thread.
 */
final class MqttConnection extends ChannelDuplexHandler implements AckWriter, PublishWriter, SubscribeWriter {

    private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);
    /** The kind of the lifecycle notice that announces a planned reconnect. */
    public static final String PLANNED_RECONNECT_NOTICE = "planned-reconnect";

    private final MqttClientConfig config;
    private final ClientCore core;
    private final Attempt attempt;
    private final TransportCloser closer;
    private final String transport;
    /**
     * The attempt's sink until it has its outcome; then dropped, so that an established connection does not keep
     * the engine's whole attempt chain (Reactor operators, the timeout, the credentials step) reachable.
     */
    private volatile @Nullable MonoSink<EstablishedSession<MqttSession>> connectSink;
    /** The version spoken on this connection: the configured one, or MQTT 3.1.1 after a fallback. */
    private final MqttVersion version;
    private final boolean v5;
    private final PacketFramer framer;
    private boolean connectSent;
    /** Tasks waiting for the end (see {@link #afterFinish}); null while none, which is almost always. */
    private @Nullable List<Runnable> afterFinish;
    /** Emitted once, by finish() on the event loop: no serializing wrapper needed. */
    private final Sinks.One<SessionEnd> terminated = Sinks.unsafe().one();

    private @Nullable Channel channel;
    private volatile boolean established;
    private volatile boolean sending = true;
    private volatile @Nullable CloseMode closeMode;
    private boolean finished;
    /** The session is ending for a planned reconnect (its end says so, and the engine reconnects at once). */
    private boolean plannedReconnect;
    private int closeCodeSent = -1;
    private @Nullable Throwable detected;
    private int serverDisconnectCode = -1;
    private @Nullable String serverDisconnectReason;
    private @Nullable Endpoint serverReference;
    private @Nullable Throwable transportError;
    private @Nullable Disposable connackTimer;
    private @Nullable KeepAlive keepAlive;
    private @Nullable Disposable closeGuard;
    // Flags set from any thread: fields with updaters, not AtomicBoolean objects (an idle connection holds them).
    private static final AtomicIntegerFieldUpdater<MqttConnection> DRAIN_SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(MqttConnection.class, "drainScheduled");
    private static final AtomicIntegerFieldUpdater<MqttConnection> ACKS_SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(MqttConnection.class, "acksScheduled");
    private volatile int drainScheduled;
    /**
     * The void promise QoS 1 and 2 writes take, of {@link #channel} (set once): made at the first such write, so an
     * idle connection holds none.
     */
    private io.netty.channel.@Nullable ChannelPromise quietPromise;
    private boolean flushScheduled;
    /** Acknowledgements of received messages, in the order they must leave (PUBREC flagged by the sign). */
    // Created with the first acknowledgement: a connection that receives no QoS 1 or 2 message holds no queue.
    private volatile java.util.concurrent.@Nullable ConcurrentLinkedQueue<Long> acks;
    @SuppressWarnings("rawtypes")
    private static final java.util.concurrent.atomic.AtomicReferenceFieldUpdater<MqttConnection, java.util.concurrent.ConcurrentLinkedQueue> ACKS =
            java.util.concurrent.atomic.AtomicReferenceFieldUpdater.newUpdater(MqttConnection.class,
                    java.util.concurrent.ConcurrentLinkedQueue.class, "acks");
    private volatile int acksScheduled;
    /** A read is being processed on the event loop (acknowledgements released meanwhile wait for its end). */
    private boolean readBatch;
    private volatile boolean readingPaused;
    private volatile boolean wantPaused;
    private @Nullable MonoSink<Void> reauthSink;
    private @Nullable NegotiatedSession negotiated;
    /** CONNACK came after a close was requested: DISCONNECT sent, the session never established. */
    private boolean goodbyeBeforeSession;
    /** A graceful close asked for during the attempt, possibly before this handler was added. */
    private volatile @Nullable CloseMode requestedClose;

    MqttConnection(MqttClientConfig config, ClientCore core, Attempt attempt, TransportCloser closer, String transport,
                   MonoSink<EstablishedSession<MqttSession>> connectSink, MqttVersion version, PacketFramer framer) {
        this.version = version;
        this.v5 = version == MqttVersion.MQTT_5;
        this.framer = framer;
        this.config = config;
        this.core = core;
        this.attempt = attempt;
        this.closer = closer;
        this.transport = transport;
        this.connectSink = connectSink;
    }

    /** @return the channel's event loop, or null before the handler is added */
    io.netty.channel.@Nullable EventLoop eventLoop() {
        Channel ch = channel;
        return ch == null ? null : ch.eventLoop();
    }

    /**
     * Runs a task once the connection has said how it ended (at once if it has).
     *
     * @param task the task, run on the event loop
     */
    void afterFinish(Runnable task) {
        Channel ch = channel;
        if (ch == null) {
            task.run();
            return;
        }
        ch.eventLoop().execute(() -> {
            if (finished) {
                task.run();
            } else {
                List<Runnable> tasks = afterFinish;
                if (tasks == null) {
                    tasks = new ArrayList<>(1);
                    afterFinish = tasks;
                }
                tasks.add(task);
            }
        });
    }

    /** @return the attempt this connection belongs to */
    Attempt attempt() {
        return attempt;
    }

    @Override
    public void reportNotice(String kind, String details) {
        attempt.reportNotice(kind, details);
    }

    /** @return whether new publishes and subscriptions may be sent on this connection */
    @Override
    public boolean canSend() {
        Channel ch = channel;
        return established && sending && ch != null && ch.isActive();
    }

    /**
     * A graceful close requested while the attempt is under way. If CONNECT was sent, the broker may already hold
     * the Will: the connection waits for CONNACK (bounded by the connackTimeout counted from CONNECT, and by the
     * engine's closeTimeout), then sends DISCONNECT in the requested mode and closes the transport, without
     * establishing the session; the attempt ends when the transport is closed. If no CONNACK comes in time the
     * transport is aborted and a {@code close-aborted} notice says the broker may publish the Will.
     *
     * @param mode {@link CloseMode#GRACEFUL} or {@link CloseMode#GRACEFUL_WITH_WILL}
     */
    void closeDuringConnect(CloseMode mode) {
        requestedClose = mode;
        Channel ch = channel;
        if (ch == null) {
            return; // handlerAdded takes it
        }
        ch.eventLoop().execute(() -> {
            if (finished || established || closeMode != null) {
                return;
            }
            closeMode = mode;
            if (connackTimer == null || !ch.isActive()) {
                // CONNECT never left: the broker knows nothing of this client.
                closer.abort(ch);
                return;
            }
            log.debug("close requested while CONNECT is in flight to {}: waiting for CONNACK to say DISCONNECT", attempt.endpoint());
        });
    }

    /** Closes the channel at once; used when the attempt is cancelled. */
    void abortNow() {
        Channel ch = channel;
        if (ch != null) {
            ch.eventLoop().execute(() -> {
                if (closeMode == null) {
                    closeMode = CloseMode.ABORT;
                }
                closer.abort(ch);
            });
        }
    }

    // ------------------------------------------------------------------ writes (any thread)

    /**
     * Encodes the packets that are not written as bytes already (SUBSCRIBE, UNSUBSCRIBE, PUBREL, the acknowledgements,
     * PINGREQ, AUTH, DISCONNECT) with Netty's MQTT encoder, called from here rather than from a handler context of its
     * own in the pipeline: one context less per connection. Every write of the client starts at the pipeline's tail
     * and so comes through this handler, the last one.
     */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) throws Exception {
        if (msg instanceof io.netty.handler.codec.mqtt.MqttMessage) {
            MqttEncoder.INSTANCE.write(ctx, msg, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    ChannelFuture write(Object message) {
        Channel ch = channel;
        wrote();
        if (ch == null) {
            ReferenceCountUtil.release(message);
            throw new IllegalStateException("no channel");
        }
        return ch.writeAndFlush(message);
    }

    /** @return whether the caller runs on this connection's event loop */
    @Override
    public boolean inEventLoop() {
        Channel ch = channel;
        return ch != null && ch.eventLoop().inEventLoop();
    }

    /**
     * Runs a task on the event loop once, however often it is asked for before it runs.
     *
     * @param task the task
     */
    @Override
    public void scheduleDrain(Runnable task) {
        Channel ch = channel;
        if (ch != null && DRAIN_SCHEDULED.compareAndSet(this, 0, 1)) {
            ch.eventLoop().execute(() -> {
                drainScheduled = 0;
                task.run();
            });
        }
    }

    /**
     * Writes a new QoS 1 or 2 publish on the event loop without flushing it at once: one flush follows the
     * writes the event loop makes in the same run (a burst of PUBACKs read together frees slots for a burst
     * of publishes, which then goes out in one syscall). The write takes the connection's one void promise
     * that reports nothing, not a promise of its own.
     *
     * @param message  the message
     * @param packetId its packet id
     */
    @Override
    public void writePublishSoon(MqttMessage message, int packetId) {
        Channel ch = channel;
        if (ch == null || !ch.eventLoop().inEventLoop()) {
            writePublish(message, packetId, false);
            return;
        }
        wrote();
        io.netty.channel.ChannelPromise quiet = quietPromise;
        if (quiet == null) {
            // A void promise that fires nothing: nobody listens to a QoS 1 or 2 write (see PublishWriter).
            quietPromise = quiet = new io.netty.channel.VoidChannelPromise(ch, false);
        }
        ch.write(Packets.publish(ch.alloc(), message, packetId, false, v5), quiet);
        if (!flushScheduled) {
            flushScheduled = true;
            ch.eventLoop().execute(() -> {
                flushScheduled = false;
                ch.flush();
            });
        }
    }

    @Override
    public ChannelFuture writeAtMostOnce(MqttMessage message) {
        return writePublish(message, 0, false);
    }

    @Override
    public ChannelFuture writePublish(MqttMessage message, int packetId, boolean dup) {
        Channel ch = channel;
        if (ch == null) {
            wrote();
            throw new IllegalStateException("no channel");
        }
        return write(Packets.publish(ch.alloc(), message, packetId, dup, v5));
    }

    @Override
    public void writePubRel(int packetId) {
        write(Packets.reply(MqttMessageType.PUBREL, packetId, 0x00));
    }

    @Override
    public void writeSubscribe(int packetId, String filter, MqttQos qos, boolean noLocal, boolean retainAsPublished,
                        dev.tether.mqtt.RetainHandling retainHandling, int subscriptionIdentifier) {
        write(Packets.subscribe(packetId, filter, qos, noLocal, retainAsPublished, retainHandling, subscriptionIdentifier,
                v5));
    }

    // ------------------------------------------------------------------ acknowledgements and reads (AckWriter)

    @Override
    public void queueAck(boolean qos2, int packetId) {
        enqueueAck((qos2 ? PUBREC : PUBACK) | packetId);
    }

    @Override
    public void queueComplete(int packetId, int reasonCode) {
        enqueueAck(PUBCOMP | ((long) reasonCode << 16) | packetId);
    }

    private static final long PUBACK = 0L;
    private static final long PUBREC = 1L << 32;
    private static final long PUBCOMP = 2L << 32;

    private void enqueueAck(long ack) {
        java.util.concurrent.ConcurrentLinkedQueue<Long> q = acks;
        if (q == null) {
            java.util.concurrent.ConcurrentLinkedQueue<Long> created = new java.util.concurrent.ConcurrentLinkedQueue<>();
            // Once set, the queue is never taken away: after a lost race it is the other thread's.
            q = ACKS.compareAndSet(this, null, created) ? created : java.util.Objects.requireNonNull(acks);
        }
        q.add(ack);
        Channel ch = channel;
        // Released while a read is processed: written with one flush when the read completes; the task is the
        // fallback for a pipeline that does not pass the read's completion on, and finds nothing left otherwise.
        if (ch != null && ACKS_SCHEDULED.compareAndSet(this, 0, 1)) {
            ch.eventLoop().execute(this::writeAcks);
        }
    }

    /** Writes every queued acknowledgement with one flush. */
    private void writeAcks() {
        acksScheduled = 0;
        java.util.concurrent.ConcurrentLinkedQueue<Long> q = acks;
        if (q == null) {
            return;
        }
        Channel ch = channel;
        if (ch == null || finished) {
            q.clear();
            return;
        }
        Long next;
        boolean any = false;
        while ((next = q.poll()) != null) {
            long ack = next;
            long kind = ack & (3L << 32);
            MqttMessageType type = kind == PUBCOMP ? MqttMessageType.PUBCOMP : kind == PUBREC ? MqttMessageType.PUBREC
                    : MqttMessageType.PUBACK;
            ch.write(Packets.reply(type, (int) (ack & 0xFFFF), (int) ((ack >>> 16) & 0xFF)));
            any = true;
        }
        if (any) {
            wrote();
            ch.flush();
        }
    }

    @Override
    public void pauseReading(boolean paused) {
        Channel ch = channel;
        if (ch == null) {
            return;
        }
        // Called under the client's monitor, so the last call wins; applied on the event loop. On the event loop
        // (a PUBLISH being read filled a buffer) it applies at once, so Netty's read loop stops after this read.
        wantPaused = paused;
        if (ch.eventLoop().inEventLoop()) {
            applyReading(ch);
        } else {
            ch.eventLoop().execute(() -> applyReading(ch));
        }
    }

    private void applyReading(Channel ch) {
        boolean paused = wantPaused;
        if (finished || closeMode != null || paused == readingPaused) {
            return;
        }
        readingPaused = paused;
        ch.config().setAutoRead(!paused);
        if (!paused) {
            ch.read();
            KeepAlive k = keepAlive;
            if (k != null) {
                k.readingResumed();
            }
        }
        log.debug("reading {} on {}", paused ? "paused: a subscriber's buffer is full" : "resumed", attempt.endpoint());
    }

    private void wrote() {
        KeepAlive k = keepAlive;
        if (k != null) {
            k.wrote();
        }
    }

    @Override
    public void writeUnsubscribe(int packetId, List<String> filters) {
        write(Packets.unsubscribe(packetId, filters));
    }


    // ------------------------------------------------------------------ the established session

    /**
     * Sends an MQTT 5 AUTH (re-authenticate) with the given credentials' secret as authentication data.
     *
     * @param credentials fresh credentials
     * @return completes when the broker answers AUTH success
     */
    Mono<Void> reauthenticate(Credentials credentials) {
        return Mono.create(sink -> {
            Channel ch = channel;
            String method = config.authenticationMethod();
            if (ch == null || method == null || !v5) {
                sink.error(new IllegalStateException("re-authentication needs MQTT 5 and an authenticationMethod(...)"));
                return;
            }
            ch.eventLoop().execute(() -> {
                if (!canSend()) {
                    sink.error(new IllegalStateException("the connection is not established; re-authenticate after reconnecting"));
                    return;
                }
                if (reauthSink != null) {
                    sink.error(new IllegalStateException("a re-authentication is already in progress"));
                    return;
                }
                reauthSink = sink;
                write(Packets.reauthenticate(method, credentials.secret()));
            });
        });
    }

    private final class Established implements EstablishedSession<MqttSession> {
        private final NegotiatedSession session;

        Established(NegotiatedSession session) {
            this.session = session;
        }

        @Override
        public MqttSession session() {
            return session;
        }

        @Override
        public Object details() {
            return session;
        }

        @Override
        public Mono<SessionEnd> terminated() {
            return terminated.asMono();
        }

        @Override
        public Mono<Void> close(CloseMode mode) {
            return Mono.defer(() -> {
                Channel ch = channel;
                if (ch != null) {
                    ch.eventLoop().execute(() -> startClose(mode));
                }
                return terminated.asMono().then();
            });
        }
    }

    /** Fails the attempt, once; later outcomes are ignored, as the sink itself would ignore them. */
    private void failConnect(Throwable error) {
        MonoSink<EstablishedSession<MqttSession>> sink = connectSink;
        connectSink = null;
        if (sink != null) {
            sink.error(error);
        }
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        ctx.channel().config().setAutoRead(true);
        if (ctx.channel().isActive()) {
            sendConnect();
        }
        ctx.read();
        CloseMode asked = requestedClose;
        if (asked != null) {
            closeDuringConnect(asked);
        }
    }

    private void sendConnect() {
        MqttClientConfig c = config;
        MqttConnectMessage connect = ConnectPackets.connect(c, attempt.credentials(), version);
        connectSent = true;
        // The timer starts before CONNECT is written, so the CONNACK wait is never shorter than configured.
        Runnable noConnack = () -> {
            if (!established && !finished && !goodbyeBeforeSession) {
                detected = new ConnectionFailedException("no CONNACK within " + c.connackTimeout().toMillis()
                        + " ms (connackTimeout) from " + attempt.endpoint(), Initiator.LOCAL_DETECTION, -1, Verdict.retry(), null);
                if (closeMode != null) {
                    String why = "closed while CONNECT was in flight, but no CONNACK came within " + c.connackTimeout().toMillis()
                            + " ms (connackTimeout) from " + attempt.endpoint() + ": the transport was aborted without "
                            + "DISCONNECT, so the broker may publish the Will";
                    log.warn(why);
                    attempt.reportNotice("close-aborted", why);
                }
                closer.abort(channelOrThrow());
            }
        };
        long connackNanos = c.connackTimeout().toNanos();
        if (KeepAlive.defaultTimers(attempt.scheduler())) {
            // The default timers: on the channel's own loop, where the timeout runs anyway (no other thread woken to
            // arm the timer and again to cancel it on every connect), as the keepalive does.
            io.netty.util.concurrent.Future<?> timer = channelOrThrow().eventLoop().schedule(noConnack, connackNanos,
                    TimeUnit.NANOSECONDS);
            connackTimer = () -> timer.cancel(false);
        } else {
            connackTimer = attempt.scheduler().schedule(() -> onLoop(noConnack), connackNanos, TimeUnit.NANOSECONDS);
        }
        io.netty.buffer.ByteBuf encoded = ConnectPackets.encode(channelOrThrow().alloc(), connect);
        if (encoded != null) {
            ConnectPackets.announceVersion(channelOrThrow(), connect);
        }
        write(encoded != null ? encoded : connect).addListener(f -> {
            if (!f.isSuccess()) {
                onTransportError(f.cause());
            }
        });
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (readBatch) {
            readBatch = false;
            java.util.concurrent.ConcurrentLinkedQueue<Long> q = acks;
            if (q != null && !q.isEmpty()) {
                writeAcks();
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // Everything that reaches this handler came out of the MQTT decoder: the framer checks the count.
        framer.decoded();
        readBatch = true;
        if (msg instanceof PacketFramer.ShortConnack sc) {
            KeepAlive k = keepAlive;
            if (k != null) {
                k.read();
            }
            if (!finished && detected == null) {
                onShortConnack(sc);
            }
            return;
        }
        if (msg instanceof PacketFramer.InboundPublish ip) {
            KeepAlive k = keepAlive;
            if (k != null) {
                k.read();
            }
            if (finished || detected != null || goodbyeBeforeSession) {
                return;
            }
            if (!established) {
                protocolError(0x82, "the broker sent PUBLISH before CONNACK", null);
                return;
            }
            MqttQos qos = MqttQos.of(ip.qos());
            // The payload array is the framer's new one: handed over, not copied.
            MqttMessage message = MessageAccess.create(ip.topic(), ip.payload(), qos, ip.retain(), null, Map.of());
            core.onPublish(this, message, ip.packetId(), ip.identifiers());
            return;
        }
        if (msg instanceof PacketFramer.Reply r) {
            KeepAlive k = keepAlive;
            if (k != null) {
                k.read();
            }
            MqttMessageType type = MqttMessageType.valueOf(r.type());
            if (finished || detected != null || goodbyeBeforeSession) {
                return;
            }
            if (!established) {
                protocolError(0x82, "the broker sent " + type + " before CONNACK", null);
                return;
            }
            onReply(type, r.packetId(), r.reasonCode());
            return;
        }
        if (!(msg instanceof io.netty.handler.codec.mqtt.MqttMessage m)) {
            ctx.fireChannelRead(msg);
            return;
        }
        KeepAlive k = keepAlive;
        if (k != null) {
            k.read();
        }
        try {
            if (m.decoderResult().isFailure()) {
                protocolError(0x81, "the broker sent a malformed packet: " + m.decoderResult().cause().getMessage(),
                        m.decoderResult().cause());
                return;
            }
            if (finished || detected != null) {
                return;
            }
            MqttMessageType type = m.fixedHeader().messageType();
            if (goodbyeBeforeSession) {
                // Closing after a CONNACK that came during a close: what the broker sends now is not taken (and so
                // not acknowledged: a kept session delivers it again).
                return;
            }
            if (!established) {
                switch (type) {
                    case CONNACK -> onConnAck((MqttConnAckMessage) m);
                    case DISCONNECT -> onServerDisconnect(m);
                    default -> protocolError(0x82, "the broker sent " + type + " before CONNACK", null);
                }
                return;
            }
            switch (type) {
                case PUBLISH -> onPublish((MqttPublishMessage) m);
                case PUBACK, PUBREC, PUBCOMP, PUBREL -> onReply(type, packetId(m), reasonCode(m));
                case SUBACK -> {
                    MqttSubAckMessage ack = (MqttSubAckMessage) m;
                    int id = ack.variableHeader().messageId();
                    if (!core.onSubAck(this, id, ack.payload().reasonCodes())) {
                        protocolError(0x82, "the broker sent SUBACK for packet id " + id + " that matches no SUBSCRIBE", null);
                    }
                }
                case UNSUBACK -> {
                    int id = ((MqttUnsubAckMessage) m).variableHeader().messageId();
                    if (!core.onUnsubAck(id)) {
                        protocolError(0x82, "the broker sent UNSUBACK for packet id " + id + " that matches no UNSUBSCRIBE", null);
                    }
                }
                case PINGRESP -> {
                    KeepAlive ka = keepAlive;
                    if (ka != null) {
                        ka.pingResponse();
                    }
                }
                case DISCONNECT -> onServerDisconnect(m);
                case AUTH -> onAuth(m);
                default -> protocolError(0x82, "the broker sent " + type + ", which a broker must never send", null);
            }
        } catch (RuntimeException e) {
            protocolError(0x81, "the broker sent a packet that cannot be understood: " + e.getMessage(), e);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onConnAck(MqttConnAckMessage ack) {
        cancel(connackTimer);
        connackTimer = null;
        MqttConnackRefusedException refused = ConnectPackets.refusal(ack, version, attempt.endpoint());
        if (refused != null) {
            log.debug("CONNACK refused: {}", refused.getMessage());
            if (v5 && refused.reasonCode() == 0x84) {
                failConnect(new VersionRefusal("CONNACK " + MqttConnackRefusedException.describe(MqttVersion.MQTT_5, 0x84)
                        + refused.reasonString().map(r -> " (" + r + ")").orElse(""), false, refused));
            } else {
                failConnect(refused);
            }
            closer.abort(channelOrThrow());
            return;
        }
        accept(ConnectPackets.negotiated(ack.variableHeader().isSessionPresent(), ack.variableHeader().properties(),
                version, config, transport));
    }

    /** A two-byte CONNACK: MQTT 3.1.1's format, read by the framer. */
    private void onShortConnack(PacketFramer.ShortConnack ack) {
        cancel(connackTimer);
        connackTimer = null;
        if (established) {
            protocolError(0x82, "the broker sent a second CONNACK", null);
            return;
        }
        if (v5) {
            // An MQTT 5 CONNACK always has a Property Length: this broker answers in MQTT 3.1.1, whatever it says.
            failConnect(new VersionRefusal("a CONNACK in MQTT 3.1.1 format, return code "
                    + MqttConnackRefusedException.describe(MqttVersion.MQTT_3_1_1, ack.returnCode())
                    + " (bytes " + framer.firstBytesHex() + ")", false,
                    new MqttConnackRefusedException(MqttVersion.MQTT_3_1_1, ack.returnCode(), null, null)));
            closer.abort(channelOrThrow());
            return;
        }
        if ((ack.flags() & 0xFE) != 0) {
            protocolError(0x81, "the broker sent a CONNACK with reserved flag bits set (bytes " + framer.firstBytesHex()
                    + "; expected 20 02 0x 00, x the Session Present bit)", null);
            return;
        }
        if (ack.returnCode() != 0) {
            MqttConnackRefusedException refused = new MqttConnackRefusedException(MqttVersion.MQTT_3_1_1, ack.returnCode(), null, null);
            log.debug("CONNACK refused: {}", refused.getMessage());
            failConnect(refused);
            closer.abort(channelOrThrow());
            return;
        }
        accept(ConnectPackets.negotiated(ack.sessionPresent(), MqttProperties.NO_PROPERTIES, version, config, transport));
    }

    private void accept(NegotiatedSession session) {
        if (closeMode != null) {
            // The user closed while CONNECT was in flight: say goodbye without establishing the session.
            goodbyeBeforeSession = true;
            sayGoodbye(closeMode);
            return;
        }
        negotiated = session;
        established = true;
        startKeepAlive(session.keepAlive());
        framer.readPublishes(v5);
        core.connected(this, session);
        MonoSink<EstablishedSession<MqttSession>> sink = connectSink;
        connectSink = null;
        if (sink != null) {
            sink.success(new Established(session));
        }
    }

    private void onPublish(MqttPublishMessage p) {
        MqttQos qos = MqttQos.of(p.fixedHeader().qosLevel().value());
        int id = p.variableHeader().packetId();
        if (qos != MqttQos.AT_MOST_ONCE && id <= 0) {
            protocolError(0x82, "the broker sent a QoS " + qos.value() + " PUBLISH without packet id", null);
            return;
        }
        Integer alias = Packets.intProperty(p.variableHeader().properties(), MqttProperties.TOPIC_ALIAS);
        if (alias != null) {
            // CONNECT announced no Topic Alias Maximum, so the broker may use none (MQTT 5, 3.3.2.3.4).
            protocolError(0x94, "the broker sent a PUBLISH with Topic Alias " + alias
                    + ", but the client allows no topic aliases (Topic Alias Maximum 0)", null);
            return;
        }
        String topic = p.variableHeader().topicName();
        if (topic == null || topic.isEmpty()) {
            protocolError(0x82, "the broker sent a PUBLISH without topic name (topic aliases are not negotiated)", null);
            return;
        }
        MqttProperties props = p.variableHeader().properties();
        String ct = Packets.stringProperty(props, MqttProperties.CONTENT_TYPE);
        Map<String, String> user = Map.of();
        List<? extends MqttProperties.MqttProperty> ups = props.getProperties(MqttProperties.USER_PROPERTY);
        if (!ups.isEmpty()) {
            Map<String, String> m = new LinkedHashMap<>();
            for (MqttProperties.MqttProperty<?> up : ups) {
                if (up instanceof MqttProperties.UserProperties list) {
                    list.value().forEach(pair -> m.put(pair.key, pair.value));
                } else if (up instanceof MqttProperties.UserProperty u) {
                    m.put(u.value().key, u.value().value);
                }
            }
            user = m;
        }
        // The array is this message's own: handed over, not copied again.
        MqttMessage message = MessageAccess.create(topic, ByteBufUtil.getBytes(p.payload()), qos,
                p.fixedHeader().isRetain(), ct, user);
        List<Integer> identifiers = List.of();
        if (v5) {
            List<? extends MqttProperties.MqttProperty> ids = props.getProperties(MqttProperties.SUBSCRIPTION_IDENTIFIER);
            if (!ids.isEmpty()) {
                List<Integer> list = new ArrayList<>(ids.size());
                for (MqttProperties.MqttProperty<?> idp : ids) {
                    if (idp.value() instanceof Integer i) {
                        list.add(i);
                    }
                }
                identifiers = list;
            }
        }
        // Acknowledged by the core when the subscribers have taken it, never here.
        core.onPublish(this, message, qos == MqttQos.AT_MOST_ONCE ? 0 : id, identifiers);
    }

    private void onServerDisconnect(io.netty.handler.codec.mqtt.MqttMessage m) {
        int code = 0;
        String reason = "";
        if (m.variableHeader() instanceof MqttReasonCodeAndPropertiesVariableHeader h) {
            code = h.reasonCode() & 0xFF;
            String rs = Packets.stringProperty(h.properties(), MqttProperties.REASON_STRING);
            reason = rs == null ? "" : rs;
            serverReference = ConnectPackets.serverReference(h.properties(), attempt.endpoint());
        }
        serverDisconnectCode = code;
        serverDisconnectReason = reason;
        attempt.reportCloseReceived(code, reason);
        if (!established) {
            failConnect(new ConnectionFailedException("the broker sent DISCONNECT " + MqttConnackRefusedException.describe(
                    MqttVersion.MQTT_5, code) + " instead of CONNACK", Initiator.REMOTE_PEER, code, disconnectVerdict(code), null));
        }
        closer.abort(channelOrThrow());
    }

    private void onAuth(io.netty.handler.codec.mqtt.MqttMessage m) {
        int code = m.variableHeader() instanceof MqttReasonCodeAndPropertiesVariableHeader h ? h.reasonCode() & 0xFF : 0;
        MonoSink<Void> sink = reauthSink;
        if (sink == null) {
            protocolError(0x82, "the broker sent AUTH although no authentication exchange was started", null);
            return;
        }
        reauthSink = null;
        if (code == 0x00) {
            attempt.reportNotice("reauthenticated", "the broker accepted the new credentials");
            sink.success();
        } else {
            sink.error(new MqttRefusedException("AUTH", code, "the broker answered re-authentication with AUTH "
                    + String.format("0x%02X", code) + "; multi-step authentication exchanges are not supported"));
        }
    }

    private void protocolError(int disconnectCode, String message, @Nullable Throwable cause) {
        if (detected != null || finished) {
            return;
        }
        MqttProtocolException error;
        if (!established) {
            // Before CONNACK the broker and the client do not understand each other: retried, but never forever.
            error = new MqttProtocolException(message + "; the broker's first bytes: " + framer.firstBytesHex()
                    + "; expected a CONNACK (" + (v5 ? "MQTT 5: 20 <length> <flags> <reason code> <properties>"
                    : "MQTT 3.1.1: 20 02 <flags> <return code>") + ") (" + attempt.endpoint() + ")", cause,
                    MqttVerdicts.BEFORE_CONNACK_PROTOCOL_ERROR);
        } else {
            error = new MqttProtocolException(message + " (" + attempt.endpoint() + ")", cause);
        }
        detected = error;
        log.warn("protocol error on {}: {}", attempt.endpoint(), message);
        if (!established) {
            failConnect(error);
        }
        Channel ch = channelOrThrow();
        if (v5 && ch.isActive()) {
            write(Packets.disconnect(disconnectCode));
            attempt.reportCloseSent(disconnectCode, message);
        }
        closer.abort(ch);
    }

    // ------------------------------------------------------------------ keepalive

    private void startKeepAlive(Duration interval) {
        Channel ch = channelOrThrow();
        KeepAlive k = new KeepAlive(attempt.scheduler(), ch.eventLoop(), interval, config.pingTimeout(), new KeepAlive.Link() {
            @Override
            public void sendPing() {
                if (!finished && closeMode == null) {
                    write(io.netty.handler.codec.mqtt.MqttMessage.PINGREQ);
                }
            }

            @Override
            public void dead(Duration pingTimeout) {
                if (!finished && detected == null && closeMode == null) {
                    detected = new ConnectionFailedException("no PINGRESP within " + pingTimeout.toMillis()
                            + " ms (pingTimeout): the connection to " + attempt.endpoint() + " is dead",
                            Initiator.LOCAL_DETECTION, -1, Verdict.retry(), null);
                    log.info("keepalive lost on {}", attempt.endpoint());
                    closer.abort(channelOrThrow());
                }
            }

            @Override
            public boolean readingPaused() {
                return readingPaused;
            }
        });
        keepAlive = k;
        k.start();
    }

    // ------------------------------------------------------------------ closing

    private void startClose(CloseMode mode) {
        Channel ch = channelOrThrow();
        if (finished) {
            return;
        }
        if (closeMode != null) {
            // An abort cuts a graceful close short at once (the engine asks for it while the drain runs).
            if (mode == CloseMode.ABORT && closeMode != CloseMode.ABORT) {
                closeMode = CloseMode.ABORT;
                sending = false;
                core.stopSending(this);
                closer.abort(ch);
            }
            return;
        }
        closeMode = mode;
        if (readingPaused) {
            // The close needs reads: the broker's DISCONNECT, the WebSocket close frame, the FIN.
            readingPaused = false;
            wantPaused = false;
            ch.config().setAutoRead(true);
            ch.read();
        }
        if (mode == CloseMode.ABORT || !ch.isActive()) {
            sending = false;
            core.stopSending(this);
            closer.abort(ch);
            return;
        }
        // Publishes accepted before close() still go out and are acknowledged, bounded by drainTimeout.
        core.drained()
                .timeout(config.drainTimeout(), attempt.scheduler())
                .onErrorResume(e -> Mono.empty())
                .subscribe(null, null, () -> onLoop(() -> sayGoodbye(mode)));
    }

    /**
     * Ends this session at once for a planned reconnect: DISCONNECT 0x00 (the broker discards the Will)
     * without waiting for publishes in flight; the next session resends them when the broker kept the
     * session. The session's end is {@linkplain dev.tether.core.SessionEnd#planned planned}: the resilient
     * connection reconnects at once, without backoff.
     *
     * @return completes when this session has ended
     */
    public Mono<Void> closeForReconnect() {
        return Mono.defer(() -> {
            Channel ch = channel;
            if (ch != null) {
                ch.eventLoop().execute(() -> {
                    if (finished || closeMode != null) {
                        return;
                    }
                    closeMode = CloseMode.GRACEFUL;
                    plannedReconnect = true;
                    attempt.reportNotice(PLANNED_RECONNECT_NOTICE, "the session ends for a planned reconnect with fresh credentials");
                    if (readingPaused) {
                        readingPaused = false;
                        wantPaused = false;
                        ch.config().setAutoRead(true);
                        ch.read();
                    }
                    if (!ch.isActive()) {
                        sending = false;
                        core.stopSending(this);
                        closer.abort(ch);
                        return;
                    }
                    sayGoodbye(CloseMode.GRACEFUL);
                });
            }
            return terminated.asMono().then();
        });
    }

    private void sayGoodbye(CloseMode mode) {
        Channel ch = channelOrThrow();
        if (finished) {
            return;
        }
        sending = false;
        core.stopSending(this);
        closeGuard = attempt.scheduler().schedule(() -> onLoop(() -> closer.abort(ch)),
                config.transportCloseTimeout().toNanos() + TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.NANOSECONDS);
        ChannelFuture sent;
        if (v5) {
            int code = mode == CloseMode.GRACEFUL_WITH_WILL ? 0x04 : 0x00;
            sent = write(Packets.disconnect(code));
            closeCodeSent = code;
            attempt.reportCloseSent(code, code == 0 ? "normal disconnection" : "disconnect with Will message");
        } else if (mode == CloseMode.GRACEFUL) {
            sent = write(io.netty.handler.codec.mqtt.MqttMessage.DISCONNECT);
            closeCodeSent = 0;
            attempt.reportCloseSent(0, "DISCONNECT");
        } else {
            // MQTT 3.1.1 has no "disconnect with Will": close without DISCONNECT so the broker publishes it.
            closer.closeGracefully(ch);
            return;
        }
        sent.addListener(f -> closer.closeGracefully(ch));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        finish();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionFailedException tls = TlsSettings.tlsFailure(attempt.endpoint(), cause);
        if (tls != null) {
            // A TLS error is a transport problem, never a decoding one. Before CONNACK it is most likely the
            // broker refusing the client certificate after the handshake (TLS 1.3): say so.
            if (!established && detected == null && !finished) {
                detected = tls;
            }
            onTransportError(cause);
            return;
        }
        if (cause instanceof io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException ws) {
            boolean tooBig = ws.closeStatus() != null
                    && ws.closeStatus().code() == io.netty.handler.codec.http.websocketx.WebSocketCloseStatus.MESSAGE_TOO_BIG.code();
            protocolError(tooBig ? 0x95 : 0x81, "the broker sent a WebSocket frame the client refuses: " + ws.getMessage()
                    + (tooBig ? " (maxPacketSize " + config.maxPacketSize() + " bounds WebSocket frames too)" : ""), ws);
            return;
        }
        if (cause instanceof PacketFramer.FramingException fe) {
            protocolError(fe.reasonCode, String.valueOf(fe.getMessage()), null);
            return;
        }
        if (cause instanceof MqttProtocolException pe) {
            protocolError(0x82, String.valueOf(pe.getMessage()), pe.getCause());
            return;
        }
        if (cause instanceof io.netty.handler.codec.DecoderException) {
            protocolError(0x81, "the broker sent bytes that cannot be decoded: " + cause.getMessage(), cause);
            return;
        }
        onTransportError(cause);
    }

    private void onTransportError(Throwable cause) {
        if (transportError == null) {
            transportError = cause;
        }
        log.debug("transport error on {}: {}", attempt.endpoint(), cause.toString());
        Channel ch = channel;
        if (ch != null) {
            closer.abort(ch);
        }
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        cancel(connackTimer);
        KeepAlive k = keepAlive;
        if (k != null) {
            k.stop();
        }
        cancel(closeGuard);
        MonoSink<Void> reauth = reauthSink;
        reauthSink = null;
        if (!established) {
            boolean silent = detected == null && closeMode == null && connectSent && framer.bytesReceived() == 0;
            Throwable failure = detected != null ? detected
                    : goodbyeBeforeSession ? new ConnectionFailedException("closed by the user while connecting to "
                    + attempt.endpoint() + ": CONNACK accepted, DISCONNECT sent, transport closed", Initiator.LOCAL_USER,
                    closeCodeSent, null, null)
                    : new ClosedBeforeConnack("the connection to " + attempt.endpoint() + " closed before CONNACK", silent,
                    transportError);
            if (silent && v5) {
                // Closed by the broker right after an MQTT 5 CONNECT, before any byte of an answer: what brokers
                // that do not speak MQTT 5 may do (RabbitMQ before 3.13).
                failure = new VersionRefusal("closed the connection after the MQTT 5 CONNECT without a CONNACK", true, failure);
            }
            failConnect(failure);
        } else {
            core.disconnected(this);
            terminated.tryEmitValue(end());
        }
        if (reauth != null) {
            if (serverDisconnectCode == 0x8C) {
                // The broker does not support re-authentication: later renewals on this endpoint go straight to the
                // fallback (a planned reconnect) instead of provoking this disconnect again.
                core.reauthenticationRefused(attempt.endpoint().toString());
                reauth.error(new MqttRefusedException("AUTH", serverDisconnectCode, "the broker answered re-authentication with "
                        + "DISCONNECT 0x8C (bad authentication method): it does not support re-authentication; renew with a "
                        + "planned reconnect (MqttClient.reconnect())"));
            } else {
                reauth.error(new ConnectionFailedException("the connection closed during re-authentication",
                        Initiator.REMOTE_PEER, -1, null, transportError));
            }
        }
        List<Runnable> tasks = afterFinish;
        afterFinish = null;
        if (tasks != null) {
            tasks.forEach(Runnable::run);
        }
    }

    private SessionEnd end() {
        if (closeMode != null && detected == null && serverDisconnectCode < 0) {
            return plannedReconnect ? SessionEnd.planned(closeCodeSent) : SessionEnd.byUser(closeCodeSent, null);
        }
        if (detected != null) {
            return SessionEnd.detected(detected);
        }
        if (serverDisconnectCode >= 0) {
            return SessionEnd.byPeer(serverDisconnectCode, new ConnectionFailedException("the broker sent DISCONNECT "
                    + MqttConnackRefusedException.describe(MqttVersion.MQTT_5, serverDisconnectCode)
                    + (serverDisconnectReason == null || serverDisconnectReason.isEmpty() ? "" : " (" + serverDisconnectReason + ")"),
                    Initiator.REMOTE_PEER, serverDisconnectCode, disconnectVerdict(serverDisconnectCode), null));
        }
        if (closeMode != null) {
            return SessionEnd.byUser(closeCodeSent, null);
        }
        return SessionEnd.byPeer(-1, new ConnectionFailedException("the connection to " + attempt.endpoint()
                + " was closed by the broker or the network", Initiator.REMOTE_PEER, -1, null, transportError));
    }

    private @Nullable Verdict disconnectVerdict(int code) {
        Endpoint ref = serverReference;
        if ((code == 0x9C || code == 0x9D) && ref != null) {
            return Verdict.redirect(ref);
        }
        return switch (code) {
            case 0x89, 0x97 -> Verdict.retryAfter(MqttVerdicts.BUSY_MIN_DELAY);
            case 0x9F -> Verdict.retryAfter(MqttVerdicts.RATE_LIMIT_MIN_DELAY);
            case 0x86, 0x87, 0x8C -> Verdict.refreshCredentials();
            default -> null;
        };
    }

    // ------------------------------------------------------------------ helpers

    /** The connection closed before CONNACK, not because of the client. */
    static final class ClosedBeforeConnack extends ConnectionFailedException {

        private static final long serialVersionUID = 1L;

        /** Whether the broker closed it after CONNECT without sending a byte (neither the client nor a timer did). */
        final boolean silent;

        ClosedBeforeConnack(String message, boolean silent, @Nullable Throwable cause) {
            super(message, Initiator.REMOTE_PEER, -1, null, cause);
            this.silent = silent;
        }
    }

    /**
     * The broker refused MQTT 5, or may have (it closed the connection right after CONNECT). The connector
     * decides: fall back to MQTT 3.1.1, or fail with a message of its own.
     */
    static final class VersionRefusal extends ConnectionFailedException {

        private static final long serialVersionUID = 1L;

        /** The broker's answer, for messages. */
        final String answer;
        /** Whether the broker closed the connection without any answer (a likely refusal, not a certain one). */
        final boolean closedBeforeConnack;

        VersionRefusal(String answer, boolean closedBeforeConnack, Throwable cause) {
            super("the broker " + (closedBeforeConnack ? "" : "answered the MQTT 5 CONNECT with ") + answer,
                    Initiator.REMOTE_PEER, cause instanceof MqttConnackRefusedException r ? r.reasonCode() : -1, null, cause);
            this.answer = answer;
            this.closedBeforeConnack = closedBeforeConnack;
        }
    }

    private Channel channelOrThrow() {
        Channel ch = channel;
        if (ch == null) {
            throw new IllegalStateException("handler not added");
        }
        return ch;
    }

    private void onLoop(Runnable task) {
        Channel ch = channel;
        if (ch != null) {
            ch.eventLoop().execute(task);
        }
    }

    private static void cancel(@Nullable Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }

    /** A PUBACK, PUBREC, PUBCOMP or PUBREL on an established session. */
    private void onReply(MqttMessageType type, int id, int reasonCode) {
        switch (type) {
            case PUBACK -> {
                if (!core.onPubAck(id, reasonCode)) {
                    protocolError(0x82, "the broker sent PUBACK for packet id " + id + ", which is not a QoS 1 publish in flight", null);
                }
            }
            case PUBREC -> {
                if (!core.onPubRec(this, id, reasonCode)) {
                    protocolError(0x82, "the broker sent PUBREC for packet id " + id + ", which is not a QoS 2 publish in flight", null);
                }
            }
            case PUBCOMP -> {
                if (!core.onPubComp(id, reasonCode)) {
                    protocolError(0x82, "the broker sent PUBCOMP for packet id " + id + ", which was not released", null);
                }
            }
            case PUBREL -> {
                if (!core.releaseQos2(this, id, v5)) {
                    protocolError(0x82, "the broker sent PUBREL for packet id " + id
                            + " before the client sent PUBREC for it", null);
                }
            }
            default -> throw new IllegalArgumentException(type + " is not a publish reply");
        }
    }

    private static int packetId(io.netty.handler.codec.mqtt.MqttMessage m) {
        if (m.variableHeader() instanceof MqttMessageIdVariableHeader h) {
            return h.messageId();
        }
        throw new IllegalArgumentException(m.fixedHeader().messageType() + " without packet id");
    }

    private static int reasonCode(io.netty.handler.codec.mqtt.MqttMessage m) {
        return m.variableHeader() instanceof MqttPubReplyMessageVariableHeader h ? h.reasonCode() & 0xFF : 0;
    }

    @Override
    public String toString() {
        return "MqttConnection{" + attempt.endpoint() + ", generation " + attempt.generation() + ", "
                + (negotiated == null ? "connecting" : negotiated.toString()) + "}";
    }
}
