package dev.tether.websocket.internal;

import dev.tether.core.Initiator;
import dev.tether.websocket.AuthDecision;
import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.concurrent.Queues;

/**
 * The WebSocket close handshake as a state machine, plus heartbeat, watchdog, message assembly and
 * inbound backpressure. One instance per connection, added just before Reactor Netty's reactive
 * bridge: every WebSocket frame is consumed here and never reaches Reactor Netty, so Reactor Netty's
 * own close handling (echo and close TCP at once) never runs. A close frame Reactor Netty writes on
 * its own is intercepted and turned into our handshake; its promise completes once TCP is closed.
 *
 * <p>All state is touched on the channel's event loop only; public methods hop onto it.
 */
public final class CloseHandshakeHandler extends ChannelDuplexHandler implements WebSocketSession {

    /** The handler's name in the pipeline. */
    public static final String NAME = "tether.ws.closeHandshake";

    private static final AtomicLong IDS = new AtomicLong();
    /** Messages of one {@link #send(Publisher)} requested and not yet written to the socket. */
    private static final int STREAM_WINDOW = 32;
    /** Written messages after which {@link #send(Publisher)} asks its source for that many more. */
    private static final int STREAM_REPLENISH = STREAM_WINDOW / 4;

    private final String id;
    private final Channel channel;
    private final SessionSettings settings;
    private final Scheduler scheduler;
    private final @Nullable String subprotocol;
    private final Sinks.One<CloseSummary> closedSink = Sinks.one();
    private volatile SessionObserver observer = SessionObserver.NONE;
    private volatile CloseState state = CloseState.OPEN;
    private volatile @Nullable Duration lastRtt;
    private volatile AuthDecision.@Nullable Accepted auth;

    // ---- event loop only ----
    private @Nullable ChannelHandlerContext ctx;
    private @Nullable LingerGate gate;
    private int codeSent = CloseSummary.ABNORMAL;
    private String reasonSent = "";
    private int codeReceived = CloseSummary.ABNORMAL;
    private String reasonReceived = "";
    private Initiator initiator = Initiator.REMOTE_PEER;
    private boolean localClosedTcp;
    private final List<CloseTimer> timers = new ArrayList<>();
    private long closingStartedNanos = -1;
    private final List<ChannelPromise> heldPromises = new ArrayList<>();
    private @Nullable Disposable closeTimer;
    private @Nullable Disposable tcpWaitTimer;
    private @Nullable Disposable pingTask;
    private @Nullable Disposable pongTimer;
    private @Nullable Disposable watchdogTimer;
    private long inboundFrames;
    private long lastAppMessageNanos;
    private long pingId;
    private long pingSentNanoTime;
    private final ArrayDeque<WebSocketMessage> inbound = new ArrayDeque<>();
    private @Nullable FluxSink<WebSocketMessage> receiver;
    private boolean readingPaused;
    private @Nullable ByteArrayOutputStream fragments;
    private boolean fragmentsText;
    private boolean finished;
    private boolean peerClosedTls;
    private boolean flushScheduled;
    private volatile long pendingOutbound;
    private volatile long inboundBytes;

    /**
     * @param channel     the upgraded channel
     * @param settings    timers and limits
     * @param subprotocol the negotiated subprotocol, or null
     */
    public CloseHandshakeHandler(Channel channel, SessionSettings settings, @Nullable String subprotocol) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.scheduler = settings.scheduler();
        this.subprotocol = subprotocol;
        this.id = (settings.client() ? "ws-c-" : "ws-s-") + IDS.incrementAndGet();
    }

    /**
     * @param observer told about close steps; set before the handler is added to the pipeline
     * @return this handler
     */
    public CloseHandshakeHandler observer(SessionObserver observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
        return this;
    }

    /**
     * @param accepted what the server's authenticator decided; set before the session is registered
     * @return this handler
     */
    public CloseHandshakeHandler authenticated(AuthDecision.Accepted accepted) {
        this.auth = Objects.requireNonNull(accepted, "accepted");
        return this;
    }

    // ------------------------------------------------------------------ WebSocketSession

    @Override
    public Optional<String> principal() {
        AuthDecision.Accepted a = auth;
        return a == null ? Optional.empty() : Optional.ofNullable(a.principal());
    }

    @Override
    public Map<String, Object> attributes() {
        AuthDecision.Accepted a = auth;
        return a == null ? Map.of() : a.attributes();
    }

    @Override
    public Optional<Instant> credentialsExpireAt() {
        AuthDecision.Accepted a = auth;
        return a == null ? Optional.empty() : a.expiry();
    }

    /** @return bytes of inbound messages held for the application (event loop view) */
    public long heldInboundBytes() {
        return inboundBytes;
    }

    /** @return bytes written to this session and not yet handed to the socket (event loop view) */
    public long pendingOutboundBytes() {
        return pendingOutbound;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public SocketAddress remoteAddress() {
        SocketAddress a = channel.remoteAddress();
        return a != null ? a : new java.net.InetSocketAddress(0);
    }

    @Override
    public Optional<String> subprotocol() {
        return Optional.ofNullable(subprotocol == null || subprotocol.isEmpty() ? null : subprotocol);
    }

    @Override
    public Flux<WebSocketMessage> receive() {
        return Flux.create(sink -> onLoop(() -> {
            if (receiver != null) {
                sink.error(new IllegalStateException("session " + id + " already has a receiver; subscribe to receive() once"));
                return;
            }
            receiver = sink;
            sink.onRequest(n -> onLoop(this::drain));
            sink.onDispose(() -> onLoop(() -> {
                if (receiver == sink) {
                    receiver = null;
                }
            }));
            drain();
        }));
    }

    @Override
    public Mono<Void> send(Publisher<WebSocketMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        return Mono.create(sink -> {
            StreamSender sender = new StreamSender(sink);
            sink.onDispose(sender::dispose);
            Flux.from(messages).subscribe(sender);
        });
    }

    @Override
    public Mono<Void> send(WebSocketMessage message) {
        Objects.requireNonNull(message, "message");
        return Mono.create(sink -> onLoop(() -> {
            ChannelHandlerContext c = ctx;
            if (state != CloseState.OPEN || c == null) {
                sink.error(new IOException("WebSocket session " + id + " is " + state + "; message not sent"));
                return;
            }
            writeMessage(c, message).addListener(f -> {
                if (f.isSuccess()) {
                    sink.success();
                } else {
                    sink.error(f.cause());
                }
            });
        }));
    }

    @Override
    public Mono<CloseSummary> close(int code, String reason) {
        Objects.requireNonNull(reason, "reason");
        CloseCodes.checkSendable(code, reason);
        return Mono.defer(() -> {
            onLoop(() -> beginClose(code, reason, Initiator.LOCAL_USER, settings.closeHandshakeTimeout(),
                    CloseTimer.CLOSE_HANDSHAKE_TIMEOUT));
            return closed();
        });
    }

    /**
     * Starts the close handshake with a given bound and timer name (used by the server's drain).
     *
     * @param code      a sendable code
     * @param reason    the reason
     * @param initiator who asked
     * @param timeout   how long to wait for the peer's close frame
     * @param timer     the name reported when that wait runs out
     * @return the summary once closed
     */
    public Mono<CloseSummary> close(int code, String reason, Initiator initiator, Duration timeout, CloseTimer timer) {
        CloseCodes.checkSendable(code, reason);
        return Mono.defer(() -> {
            onLoop(() -> beginClose(code, reason, initiator, timeout, timer));
            return closed();
        });
    }

    @Override
    public Mono<CloseSummary> abort() {
        return Mono.defer(() -> {
            onLoop(() -> abortNow(Initiator.LOCAL_USER, null));
            return closed();
        });
    }

    /**
     * Closes TCP at once, naming the timer that caused it.
     *
     * @param timer the timer that ran out
     * @return the summary once closed
     */
    public Mono<CloseSummary> abort(CloseTimer timer) {
        return Mono.defer(() -> {
            onLoop(() -> abortNow(Initiator.LOCAL_USER, timer));
            return closed();
        });
    }

    @Override
    public Mono<CloseSummary> closed() {
        return closedSink.asMono();
    }

    @Override
    public CloseState state() {
        return state;
    }

    @Override
    public Optional<Duration> lastRoundTrip() {
        return Optional.ofNullable(lastRtt);
    }

    /** @return the channel */
    public Channel channel() {
        return channel;
    }

    @Override
    public String toString() {
        return "WebSocketSession{" + id + ", " + remoteAddress() + ", " + state + "}";
    }

    // ------------------------------------------------------------------ pipeline events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!ctx.channel().isActive()) {
            finish();
            return;
        }
        gate = LingerGate.install(ctx.pipeline(), settings.client(), settings.maxFramePayload(), this::lingerBudgetExhausted);
        long now = nanos();
        lastAppMessageNanos = now;
        if (settings.heartbeat().enabled()) {
            long every = settings.heartbeat().interval().toNanos();
            pingTask = scheduler.schedulePeriodically(() -> onLoop(this::pingTick), every, every, TimeUnit.NANOSECONDS);
        }
        Duration watchdog = settings.watchdog();
        if (watchdog != null) {
            scheduleWatchdog(watchdog.toNanos());
        }
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            onFrame(ctx, frame);
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ctx.fireChannelInactive();
        finish();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        CorruptedWebSocketFrameException corrupt = cause instanceof CorruptedWebSocketFrameException c ? c
                : cause.getCause() instanceof CorruptedWebSocketFrameException c2 ? c2 : null;
        if (corrupt != null && gate != null) {
            onProtocolViolation(corrupt);
            return;
        }
        if (corrupt != null) {
            // Netty's frame decoder sends its own close frame and closes TCP, below this handler.
            if (state == CloseState.OPEN) {
                initiator = Initiator.LOCAL_DETECTION;
                state = CloseState.CLOSE_SENT;
                markClosingStart();
            }
            // On an invalid close frame Netty closes without sending any close frame of its own: report none.
            boolean decoderSentClose = corrupt.getMessage() == null || !corrupt.getMessage().startsWith("Invalid close frame");
            if (decoderSentClose && codeSent == CloseSummary.ABNORMAL && corrupt.closeStatus() != null) {
                codeSent = corrupt.closeStatus().code();
                reasonSent = corrupt.closeStatus().reasonText();
                observer.closeSent(codeSent, reasonSent);
            }
            localClosedTcp = true;
            return;
        }
        if (cause instanceof IOException) {
            // reset by peer and similar: Netty closes the channel itself
            return;
        }
        if (state == CloseState.OPEN) {
            initiator = Initiator.LOCAL_DETECTION;
        }
        closeTcp();
    }

    /**
     * The frame decoder (ours, which does not close by itself) found a protocol violation: say why with a
     * close frame, then linger. When the peer has already sent its close frame (an invalid one), nothing
     * more comes from it: close once our frame is out.
     */
    private void onProtocolViolation(CorruptedWebSocketFrameException corrupt) {
        if (state != CloseState.OPEN || finished) {
            return; // closing already: the gate discards, the timers run
        }
        WebSocketCloseStatus status = corrupt.closeStatus();
        int code = status == null ? 1002 : status.code();
        String reason = CloseCodes.truncateReason(corrupt.getMessage() != null ? corrupt.getMessage()
                : status == null ? "" : status.reasonText());
        if (!CloseCodes.sendable(code)) {
            code = 1002;
        }
        if (Objects.requireNonNull(gate).peerCloseSeen()) {
            initiator = Initiator.LOCAL_DETECTION;
            state = CloseState.CLOSE_SENT;
            markClosingStart();
            stopLiveness();
            writeClose(code, reason).addListener(f -> closeTcp());
            return;
        }
        closeForPeerInput(code, reason);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof CloseWebSocketFrame frame) {
            // Reactor Netty (or anything above us) wants to close: do it our way, once.
            int code = frame.statusCode();
            String reason = frame.reasonText() == null ? "" : frame.reasonText();
            frame.release();
            heldPromises.add(promise);
            if (state == CloseState.OPEN) {
                boolean ok = CloseCodes.sendable(code) && reason.getBytes(StandardCharsets.UTF_8).length <= 123;
                beginClose(ok ? code : -1, ok ? reason : "", Initiator.LOCAL_USER, settings.closeHandshakeTimeout(),
                        CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
            }
            if (finished) {
                releaseHeld();
            }
            return;
        }
        if (msg instanceof WebSocketFrame && !(msg instanceof PongWebSocketFrame) && !(msg instanceof PingWebSocketFrame)
                && state != CloseState.OPEN) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new IOException("WebSocket session " + id + " is closing; no data after the close frame"));
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslCloseCompletionEvent) {
            // The peer closed TLS (close_notify); Reactor Netty answers by closing the channel from above.
            peerClosedTls = true;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        // A close from above: Reactor Netty disposing the connection (local, without a handshake), or
        // Reactor Netty reacting to the peer's TLS close_notify (the peer's doing).
        if (!peerClosedTls) {
            if (state == CloseState.OPEN) {
                initiator = Initiator.LOCAL_USER;
                markClosingStart();
            }
            localClosedTcp = true;
        }
        ctx.close(promise);
    }

    // ------------------------------------------------------------------ inbound frames

    private void onFrame(ChannelHandlerContext ctx, WebSocketFrame frame) {
        inboundFrames++;
        if (pongTimer != null) {
            pongTimer.dispose();
            pongTimer = null;
        }
        if (frame instanceof CloseWebSocketFrame close) {
            onCloseFrame(close);
            return;
        }
        if (state != CloseState.OPEN) {
            return; // closing: data after our close frame is dropped
        }
        if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            return;
        }
        if (frame instanceof PongWebSocketFrame) {
            ByteBuf c = frame.content();
            if (c.readableBytes() == 8 && c.getLong(c.readerIndex()) == pingId && pingSentNanoTime != 0) {
                lastRtt = Duration.ofNanos(System.nanoTime() - pingSentNanoTime);
                pingSentNanoTime = 0;
            }
            return;
        }
        boolean continuation = frame instanceof ContinuationWebSocketFrame;
        if (!continuation && !(frame instanceof TextWebSocketFrame) && !(frame instanceof BinaryWebSocketFrame)) {
            return;
        }
        ByteBuf data = frame.content();
        if (!continuation) {
            if (fragments != null) {
                closeForPeerInput(1002, "new message before the previous one ended");
                return;
            }
            if (data.readableBytes() > settings.maxMessageBytes()) {
                tooBig(data.readableBytes());
                return;
            }
            boolean text = frame instanceof TextWebSocketFrame;
            if (frame.isFinalFragment()) {
                deliver(text, ByteBufUtil.getBytes(data));
                return;
            }
            fragments = new ByteArrayOutputStream(Math.max(256, data.readableBytes() * 2));
            fragmentsText = text;
        } else if (fragments == null) {
            closeForPeerInput(1002, "continuation frame without a message");
            return;
        }
        ByteArrayOutputStream f = fragments;
        if ((long) f.size() + data.readableBytes() > settings.maxMessageBytes()) {
            fragments = null;
            tooBig((long) f.size() + data.readableBytes());
            return;
        }
        byte[] chunk = ByteBufUtil.getBytes(data);
        f.write(chunk, 0, chunk.length);
        if (frame.isFinalFragment()) {
            fragments = null;
            deliver(fragmentsText, f.toByteArray());
        }
    }

    private void tooBig(long size) {
        closeForPeerInput(1009, "message of " + size + " bytes exceeds " + settings.maxMessageBytes());
    }

    /**
     * A lingering close: the peer's input made us close (protocol error, message too big, slow consumer).
     * Our close frame goes out, then inbound bytes are read and discarded until the peer's close frame or
     * FIN, bounded by the linger timeout and byte budget; only then is TCP closed, so no unread data turns
     * our close into a reset.
     */
    private void closeForPeerInput(int code, String reason) {
        beginClose(code, reason, Initiator.LOCAL_DETECTION, settings.lingerTimeout(), CloseTimer.LINGER_TIMEOUT);
    }

    private void lingerBudgetExhausted(long discarded) {
        if (finished || state == CloseState.OPEN) {
            return;
        }
        timers.add(CloseTimer.LINGER_BYTES);
        closeTcp();
    }

    private void deliver(boolean text, byte[] payload) {
        lastAppMessageNanos = nanos();
        inbound.add(WebSocketMessage.of(text ? WebSocketMessage.Type.TEXT : WebSocketMessage.Type.BINARY, payload));
        inboundBytes += payload.length;
        drain();
        // Held messages are bounded in count and in bytes (about one largest message), whichever comes first.
        boolean full = inbound.size() >= settings.inboundBuffer() || inboundBytes >= settings.maxMessageBytes();
        if (!readingPaused && full && state == CloseState.OPEN) {
            readingPaused = true;
            channel.config().setAutoRead(false);
        }
    }

    private void drain() {
        FluxSink<WebSocketMessage> r = receiver;
        while (r != null && !inbound.isEmpty() && r.requestedFromDownstream() > 0) {
            WebSocketMessage m = inbound.poll();
            inboundBytes -= m.size();
            r.next(m);
            r = receiver;
        }
        if (readingPaused && inbound.size() <= settings.inboundBuffer() / 2 && inboundBytes <= settings.maxMessageBytes() / 2) {
            resumeReading();
        }
        if (finished && inbound.isEmpty() && receiver != null) {
            FluxSink<WebSocketMessage> done = receiver;
            receiver = null;
            done.complete();
        }
    }

    private void resumeReading() {
        readingPaused = false;
        if (channel.isActive()) {
            channel.config().setAutoRead(true);
            channel.read();
        }
    }

    // ------------------------------------------------------------------ close handshake

    private void onCloseFrame(CloseWebSocketFrame frame) {
        if (codeReceived != CloseSummary.ABNORMAL) {
            return;
        }
        int raw = frame.statusCode();
        codeReceived = raw == -1 ? CloseSummary.NO_STATUS : raw;
        reasonReceived = raw == -1 || frame.reasonText() == null ? "" : frame.reasonText();
        markClosingStart();
        stopLiveness();
        observer.closeReceived(codeReceived, reasonReceived);
        switch (state) {
            case OPEN -> {
                initiator = Initiator.REMOTE_PEER;
                state = CloseState.CLOSE_RECEIVED;
                resumeReading();
                // A close frame is always answered, echoing the code (none if the peer sent none); a code
                // that may not be sent (e.g. 5000, 1005 on the wire) is answered with 1002 instead of echoed.
                boolean echo = raw == -1 || CloseCodes.sendable(raw);
                ChannelFuture reply = writeClose(echo ? raw : 1002, echo ? "" : "invalid close code " + raw);
                state = CloseState.HANDSHAKE_COMPLETE;
                afterHandshake(reply);
            }
            case CLOSE_SENT -> {
                cancel(closeTimer);
                closeTimer = null;
                state = CloseState.HANDSHAKE_COMPLETE;
                afterHandshake(null);
            }
            default -> { }
        }
    }

    private void afterHandshake(@Nullable ChannelFuture reply) {
        if (settings.client()) {
            // The server should close TCP first (RFC 6455 7.1.1); wait for its FIN, but not for ever.
            resumeReading();
            tcpWaitTimer = schedule(settings.tcpCloseWait(), () -> {
                if (!finished) {
                    timers.add(CloseTimer.TCP_CLOSE_WAIT);
                    closeTcp();
                }
            });
        } else if (reply != null) {
            reply.addListener(f -> closeTcp());
        } else {
            closeTcp();
        }
    }

    private void beginClose(int code, String reason, Initiator who, Duration timeout, CloseTimer timer) {
        if (state != CloseState.OPEN || ctx == null || finished) {
            return;
        }
        initiator = who;
        state = CloseState.CLOSE_SENT;
        markClosingStart();
        stopLiveness();
        resumeReading();
        fragments = null;
        writeClose(code, reason);
        LingerGate g = gate;
        if (g != null) {
            // From here only the peer's close frame matters: its other bytes are discarded as they come.
            g.discard(settings.lingerBytes());
        }
        closeTimer = schedule(timeout, () -> {
            if (state == CloseState.CLOSE_SENT && !finished) {
                timers.add(timer);
                closeTcp();
            }
        });
    }

    private ChannelFuture writeClose(int code, String reason) {
        ChannelHandlerContext c = Objects.requireNonNull(ctx);
        CloseWebSocketFrame frame = code < 0 ? new CloseWebSocketFrame(true, 0, Unpooled.EMPTY_BUFFER)
                : new CloseWebSocketFrame(code, reason);
        int recorded = code < 0 ? CloseSummary.NO_STATUS : code;
        String recordedReason = code < 0 ? "" : reason;
        ChannelFuture f = c.writeAndFlush(frame);
        f.addListener(x -> {
            if (x.isSuccess() && codeSent == CloseSummary.ABNORMAL) {
                codeSent = recorded;
                reasonSent = recordedReason;
                observer.closeSent(recorded, recordedReason);
            }
        });
        return f;
    }

    private void abortNow(Initiator who, @Nullable CloseTimer timer) {
        if (finished) {
            return;
        }
        if (state == CloseState.OPEN) {
            initiator = who;
        }
        if (timer != null) {
            timers.add(timer);
        }
        markClosingStart();
        closeTcp();
    }

    private void closeTcp() {
        ChannelHandlerContext c = ctx;
        if (c == null || finished) {
            return;
        }
        if (!localClosedTcp) {
            localClosedTcp = true;
            c.close();
        }
    }

    private void markClosingStart() {
        if (closingStartedNanos < 0) {
            closingStartedNanos = nanos();
        }
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        state = CloseState.CLOSED;
        cancel(closeTimer);
        cancel(tcpWaitTimer);
        stopLiveness();
        fragments = null;
        boolean clean = codeSent != CloseSummary.ABNORMAL && codeReceived != CloseSummary.ABNORMAL;
        Duration took = closingStartedNanos < 0 ? Duration.ZERO : Duration.ofNanos(Math.max(0, nanos() - closingStartedNanos));
        CloseSummary summary = new CloseSummary(clean, initiator, codeSent, reasonSent, codeReceived, reasonReceived,
                localClosedTcp ? CloseSummary.Side.LOCAL : CloseSummary.Side.PEER, timers, took);
        releaseHeld();
        drain();
        observer.closed(summary);
        closedSink.tryEmitValue(summary);
    }

    private void releaseHeld() {
        List<ChannelPromise> held = new ArrayList<>(heldPromises);
        heldPromises.clear();
        held.forEach(ChannelPromise::trySuccess);
    }

    // ------------------------------------------------------------------ liveness

    private void pingTick() {
        ChannelHandlerContext c = ctx;
        if (state != CloseState.OPEN || c == null || finished || pongTimer != null || readingPaused) {
            return;
        }
        long id = ++pingId;
        long framesAtPing = inboundFrames;
        pingSentNanoTime = System.nanoTime();
        c.writeAndFlush(new PingWebSocketFrame(Unpooled.buffer(8).writeLong(id)));
        pongTimer = schedule(settings.heartbeat().pongTimeout(), () -> {
            pongTimer = null;
            if (state == CloseState.OPEN && !finished && inboundFrames == framesAtPing && !readingPaused) {
                declareDead();
            }
        });
    }

    private void declareDead() {
        // The peer is unresponsive: say 1011 if the socket still takes it, then close TCP at once.
        timers.add(CloseTimer.PONG_TIMEOUT);
        initiator = Initiator.LOCAL_DETECTION;
        state = CloseState.CLOSE_SENT;
        markClosingStart();
        stopLiveness();
        writeClose(1011, "no pong within " + settings.heartbeat().pongTimeout().toMillis() + " ms");
        closeTcp();
    }

    private void scheduleWatchdog(long delayNanos) {
        watchdogTimer = schedule(Duration.ofNanos(delayNanos), () -> {
            Duration period = Objects.requireNonNull(settings.watchdog());
            if (state != CloseState.OPEN || finished) {
                return;
            }
            long idle = nanos() - lastAppMessageNanos;
            if (readingPaused) {
                scheduleWatchdog(period.toNanos());
            } else if (idle >= period.toNanos()) {
                timers.add(CloseTimer.APPLICATION_WATCHDOG);
                beginClose(1011, "no application message within " + period.toMillis() + " ms", Initiator.LOCAL_DETECTION,
                        settings.closeHandshakeTimeout(), CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
            } else {
                scheduleWatchdog(period.toNanos() - idle);
            }
        });
    }

    private void stopLiveness() {
        cancel(pingTask);
        cancel(pongTimer);
        cancel(watchdogTimer);
        pingTask = pongTimer = watchdogTimer = null;
    }

    // ------------------------------------------------------------------ plumbing

    private ChannelFuture writeMessage(ChannelHandlerContext c, WebSocketMessage message) {
        byte[] bytes = message.bytes();
        long bound = settings.maxOutboundBytes();
        if (pendingOutbound > 0 && pendingOutbound + bytes.length > bound) {
            // A slow consumer: closing it beats holding an ever longer queue for it.
            long queued = pendingOutbound;
            closeForPeerInput(1013, "slow consumer: " + queued + " bytes queued, bound " + bound);
            return c.newFailedFuture(new IOException("WebSocket session " + id + " is not reading: " + queued
                    + " bytes queued for it exceed the bound of " + bound + "; closing it with 1013"));
        }
        int max = settings.maxFramePayload();
        boolean text = message.isText();
        if (bytes.length <= max) {
            ByteBuf buf = Unpooled.wrappedBuffer(bytes);
            return counted(writeSoonFlushed(c, text ? new TextWebSocketFrame(buf) : new BinaryWebSocketFrame(buf)), bytes.length);
        }
        int offset = 0;
        ChannelFuture last = null;
        while (offset < bytes.length) {
            int len = Math.min(max, bytes.length - offset);
            boolean fin = offset + len == bytes.length;
            ByteBuf buf = Unpooled.wrappedBuffer(bytes, offset, len);
            WebSocketFrame frame = offset == 0 ? (text ? new TextWebSocketFrame(false, 0, buf) : new BinaryWebSocketFrame(false, 0, buf))
                    : new ContinuationWebSocketFrame(fin, 0, buf);
            last = counted(fin ? writeSoonFlushed(c, frame) : c.write(frame), len);
            offset += len;
        }
        return Objects.requireNonNull(last);
    }

    private ChannelFuture counted(ChannelFuture f, int bytes) {
        if (f.isDone()) {
            return f;
        }
        pendingOutbound += bytes;
        f.addListener(x -> pendingOutbound -= bytes);
        return f;
    }

    /** Writes now and flushes once the event loop has run the writes queued with it (one syscall for a burst). */
    private ChannelFuture writeSoonFlushed(ChannelHandlerContext c, WebSocketFrame frame) {
        ChannelFuture f = c.write(frame);
        if (!flushScheduled) {
            flushScheduled = true;
            c.executor().execute(() -> {
                flushScheduled = false;
                c.flush();
            });
        }
        return f;
    }

    /**
     * Streams a publisher's messages onto the channel: messages cross to the event loop through one
     * single-producer queue and are written in bursts by one drain task, instead of one task and one
     * Mono per message. At most {@link #STREAM_WINDOW} messages are requested and not yet written to
     * the socket, as before; the outbound byte bound of {@link #writeMessage} applies to each.
     */
    private final class StreamSender extends BaseSubscriber<WebSocketMessage> {
        private final MonoSink<Void> result;
        private final Queue<WebSocketMessage> queue = Queues.<WebSocketMessage>get(STREAM_WINDOW).get();
        private final AtomicInteger wip = new AtomicInteger();
        private volatile boolean upstreamDone;
        private volatile @Nullable Throwable upstreamError;
        // ---- event loop only ----
        private long written;
        private long completed;
        private int toRequest;
        private boolean allQueued;
        private boolean ended;

        StreamSender(MonoSink<Void> result) {
            this.result = result;
        }

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            subscription.request(STREAM_WINDOW);
        }

        @Override
        protected void hookOnNext(WebSocketMessage message) {
            if (!queue.offer(message)) {
                // the source ignored our requests: fail the send rather than drop a message
                cancel();
                upstreamError = Exceptions.failWithOverflow("send(Publisher) source emitted more than requested");
                upstreamDone = true;
            }
            signal();
        }

        @Override
        protected void hookOnComplete() {
            upstreamDone = true;
            signal();
        }

        @Override
        protected void hookOnError(Throwable error) {
            upstreamError = error;
            upstreamDone = true;
            signal();
        }

        private void signal() {
            if (wip.getAndIncrement() == 0) {
                onLoop(this::drainQueue);
            }
        }

        private void drainQueue() {
            int missed = 1;
            while (true) {
                if (ended) {
                    queue.clear();
                } else {
                    writeQueued();
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private void writeQueued() {
            while (!ended) {
                boolean done = upstreamDone;
                WebSocketMessage m = queue.poll();
                if (m == null) {
                    if (done) {
                        Throwable error = upstreamError;
                        if (error != null) {
                            end(error);
                        } else {
                            allQueued = true;
                            completeIfWritten();
                        }
                    }
                    return;
                }
                ChannelHandlerContext c = ctx;
                if (state != CloseState.OPEN || c == null) {
                    end(new IOException("WebSocket session " + id + " is " + state + "; message not sent"));
                    return;
                }
                written++;
                writeMessage(c, m).addListener(this::onWritten);
            }
        }

        private void onWritten(io.netty.util.concurrent.Future<? super Void> f) {
            if (ended) {
                return;
            }
            if (!f.isSuccess()) {
                end(f.cause());
                return;
            }
            completed++;
            if (allQueued) {
                completeIfWritten();
                return;
            }
            // Ask for more in batches, as Reactor's limitRate does, so upstream is not asked once per message.
            if (++toRequest >= STREAM_REPLENISH) {
                int n = toRequest;
                toRequest = 0;
                request(n);
            }
        }

        private void completeIfWritten() {
            if (!ended && completed == written) {
                ended = true;
                result.success();
            }
        }

        private void end(Throwable error) {
            if (ended) {
                return;
            }
            ended = true;
            queue.clear();
            cancel();
            result.error(error);
        }
    }

    private Disposable schedule(Duration delay, Runnable task) {
        return scheduler.schedule(() -> onLoop(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
        } else {
            channel.eventLoop().execute(task);
        }
    }

    private long nanos() {
        return scheduler.now(TimeUnit.NANOSECONDS);
    }

    private static void cancel(@Nullable Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }
}
