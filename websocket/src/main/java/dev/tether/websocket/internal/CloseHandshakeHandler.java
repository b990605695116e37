package dev.tether.websocket.internal;

import dev.tether.core.Initiator;
import dev.tether.websocket.AuthDecision;
import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
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
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One WebSocket session on Netty: the glue between the pipeline and the parts that do the work, each
 * in its own class as OkHttp splits its WebSocket — {@link CloseHandshake} (the close-handshake state
 * machine and its timers, without Netty), {@link Liveness} (ping, pong, round trip, watchdog),
 * {@link MessageAssembler} (fragments, size limit), {@link InboundQueue} (messages for the application
 * and backpressure), {@link OutboundWriter} (fragmentation, the outbound bound; Netty's {@link FlushConsolidationHandler}
 * turns a burst of flushes into one) and
 * {@link LingerGate} (raw inbound bytes discarded while closing).
 *
 * <p>Added just before Reactor Netty's reactive bridge: every WebSocket frame is consumed here and
 * never reaches Reactor Netty, so Reactor Netty's own close handling (echo and close TCP at once) never
 * runs. A close frame Reactor Netty writes on its own is intercepted and turned into our handshake;
 * its promise completes once TCP is closed.
 *
 * <p>All state is touched on the channel's event loop only; public methods hop onto it.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class CloseHandshakeHandler extends ChannelDuplexHandler implements WebSocketSession {

    /** The handler's name in the pipeline. */
    public static final String NAME = "tether.ws.closeHandshake";

    private static final AtomicLong IDS = new AtomicLong();
    private static final String FLUSH_CONSOLIDATION = "tether.ws.flushConsolidation";

    private final String id;
    private final Channel channel;
    private final SessionSettings settings;
    private final @Nullable String subprotocol;
    private final Sinks.One<CloseSummary> closedSink = Sinks.one();
    private final CloseHandshake handshake;
    private final Liveness liveness;
    private final MessageAssembler assembler;
    private final InboundQueue inbound;
    private final OutboundWriter outbound;
    private final AssemblerSink assembled = new AssemblerSink();
    private volatile SessionObserver observer = SessionObserver.NONE;
    private volatile AuthDecision.@Nullable Accepted auth;

    // ---- event loop only ----
    private @Nullable ChannelHandlerContext ctx;
    private @Nullable LingerGate gate;
    private final List<ChannelPromise> heldPromises = new ArrayList<>();
    private boolean peerClosedTls;
    private volatile boolean byteStream;
    private int refusedCode;
    private String refusedReason = "";

    /**
     * @param channel     the upgraded channel
     * @param settings    timers and limits
     * @param subprotocol the negotiated subprotocol, or null
     */
    public CloseHandshakeHandler(Channel channel, SessionSettings settings, @Nullable String subprotocol) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.subprotocol = subprotocol;
        this.id = (settings.client() ? "ws-c-" : "ws-s-") + IDS.incrementAndGet();
        this.handshake = new CloseHandshake(settings, new NettyWire(), this::onLoop);
        this.liveness = new Liveness(settings.heartbeat(), settings.watchdog(), settings.scheduler(), this::onLoop, new Probe());
        this.assembler = new MessageAssembler(settings.maxMessageBytes());
        this.inbound = new InboundQueue(id, settings.inboundBuffer(), settings.maxMessageBytes(), this::onLoop, new Reading());
        this.outbound = new OutboundWriter(id, settings.maxFramePayload(), settings.maxOutboundBytes(), this::onLoop, new Writing());
    }

    /**
     * @param observer told about close steps; set before the handler is added to the pipeline
     * @return this handler
     */
    public CloseHandshakeHandler observer(SessionObserver observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
        handshake.observer(observer);
        return this;
    }

    /**
     * Byte-stream mode, for a protocol carried in binary messages (MQTT over WebSocket): the payload of
     * binary and continuation frames is passed on to the next handler as it comes (no message assembly,
     * no {@link #receive()}), a {@link ByteBuf} written from above goes out as a binary frame, and errors
     * (a protocol violation below, a text frame) are passed on for the protocol above to report before the
     * lingering close begins. Set before the handler is added.
     *
     * @return this handler
     */
    public CloseHandshakeHandler byteStream() {
        this.byteStream = true;
        return this;
    }

    /**
     * Byte-stream mode: the protocol above refused the peer's input (a packet too large, malformed). The
     * next {@link #abortOrLinger()} becomes a lingering close with this code; nothing is sent yet, so the
     * protocol's own goodbye can still go out first.
     *
     * @param code   the close code (1009 for too large, 1002 for malformed)
     * @param reason why
     */
    public void refused(int code, String reason) {
        onLoop(() -> {
            if (refusedCode == 0) {
                refusedCode = CloseCodes.sendable(code) ? code : 1002;
                refusedReason = CloseCodes.truncateReason(reason);
            }
        });
    }

    /**
     * Byte-stream mode's abort: when the peer's input was refused, a lingering close with that code (our
     * close frame, then its bytes discarded until its close frame or FIN, within the linger bounds); when
     * such a close is already under way, nothing (it ends within its bounds); otherwise TCP is closed at
     * once and no close frame is sent.
     */
    public void abortOrLinger() {
        onLoop(() -> {
            if (ctx == null || handshake.finished()) {
                return;
            }
            if (refusedCode != 0 && handshake.isOpen()) {
                handshake.closeForPeerInput(refusedCode, refusedReason);
            } else if (!handshake.lingering()) {
                handshake.abort(Initiator.LOCAL_USER, null);
            }
        });
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
        return inbound.heldBytes();
    }

    /** @return bytes written to this session and not yet handed to the socket (event loop view) */
    public long pendingOutboundBytes() {
        return outbound.pendingBytes();
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
        return inbound.receive();
    }

    @Override
    public Mono<Void> send(Publisher<WebSocketMessage> messages) {
        return outbound.send(messages);
    }

    @Override
    public Mono<Void> send(WebSocketMessage message) {
        return outbound.send(message);
    }

    @Override
    public Mono<CloseSummary> close(int code, String reason) {
        Objects.requireNonNull(reason, "reason");
        CloseCodes.checkSendable(code, reason);
        return Mono.defer(() -> {
            onLoop(() -> {
                if (ctx != null) {
                    handshake.begin(code, reason, Initiator.LOCAL_USER, settings.closeHandshakeTimeout(),
                            CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
                }
            });
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
            onLoop(() -> {
                if (ctx != null) {
                    handshake.begin(code, reason, initiator, timeout, timer);
                }
            });
            return closed();
        });
    }

    @Override
    public Mono<CloseSummary> abort() {
        return Mono.defer(() -> {
            onLoop(() -> handshake.abort(Initiator.LOCAL_USER, null));
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
            onLoop(() -> handshake.abort(Initiator.LOCAL_USER, timer));
            return closed();
        });
    }

    @Override
    public Mono<CloseSummary> closed() {
        return closedSink.asMono();
    }

    @Override
    public CloseState state() {
        return handshake.state();
    }

    @Override
    public Optional<Duration> lastRoundTrip() {
        return liveness.lastRoundTrip();
    }

    /** @return the channel */
    public Channel channel() {
        return channel;
    }

    @Override
    public String toString() {
        return "WebSocketSession{" + id + ", " + remoteAddress() + ", " + state() + "}";
    }

    // ------------------------------------------------------------------ pipeline events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!ctx.channel().isActive()) {
            finish();
            return;
        }
        gate = LingerGate.install(ctx.pipeline(), settings.client(), settings.maxFramePayload(),
                discarded -> handshake.lingerBudgetExhausted());
        consolidateFlushes(ctx.pipeline());
        liveness.start();
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    /**
     * Puts Netty's {@link FlushConsolidationHandler} just before the frame encoder (after TLS, so TLS
     * records are made per burst too): the writer flushes every message, and a burst of flushes costs
     * one syscall. Measured on the streaming workload, it was not slower than the writer's own
     * flush-per-burst task it replaced. Without a frame encoder (an in-memory test channel) nothing is
     * added and every flush goes through.
     */
    private static void consolidateFlushes(ChannelPipeline pipeline) {
        ChannelHandlerContext encoder = pipeline.context(WebSocketFrameEncoder.class);
        if (encoder != null && pipeline.get(FLUSH_CONSOLIDATION) == null) {
            pipeline.addBefore(encoder.name(), FLUSH_CONSOLIDATION,
                    new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        }
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
        if (byteStream) {
            // The protocol above ends its session on channelInactive: the close summary goes first.
            finish();
            ctx.fireChannelInactive();
            return;
        }
        ctx.fireChannelInactive();
        finish();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        CorruptedWebSocketFrameException corrupt = cause instanceof CorruptedWebSocketFrameException c ? c
                : cause.getCause() instanceof CorruptedWebSocketFrameException c2 ? c2 : null;
        if (corrupt != null) {
            WebSocketCloseStatus status = corrupt.closeStatus();
            String reason = corrupt.getMessage() != null ? corrupt.getMessage() : status == null ? "" : status.reasonText();
            int code = status == null ? 1002 : status.code();
            LingerGate g = gate;
            if (g != null && byteStream) {
                // The protocol above says why first (its goodbye goes out before our close frame), then we linger.
                refused(code, reason);
                ctx.fireExceptionCaught(cause);
                handshake.onProtocolViolation(code, reason, g.peerCloseSeen());
            } else if (g != null) {
                // Our decoder reports and does not close: a lingering close, unless the peer's close frame is in.
                handshake.onProtocolViolation(code, reason, g.peerCloseSeen());
            } else {
                // Netty's decoder sends its own close frame (none on an invalid close frame) and closes TCP below us.
                boolean sentClose = corrupt.getMessage() == null || !corrupt.getMessage().startsWith("Invalid close frame");
                handshake.closedByDecoder(sentClose && status != null ? code : -1, status == null ? "" : status.reasonText());
            }
            return;
        }
        if (byteStream) {
            ctx.fireExceptionCaught(cause); // the protocol above decides (and aborts)
            return;
        }
        if (cause instanceof IOException) {
            // reset by peer and similar: Netty closes the channel itself
            return;
        }
        handshake.failed();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof CloseWebSocketFrame frame) {
            // Reactor Netty (or anything above us) wants to close: do it our way, once.
            int code = frame.statusCode();
            String reason = frame.reasonText() == null ? "" : frame.reasonText();
            frame.release();
            heldPromises.add(promise);
            handshake.closeFrameFromAbove(code, reason);
            if (handshake.finished()) {
                releaseHeld();
            }
            return;
        }
        if (byteStream && msg instanceof ByteBuf bytes) {
            if (!handshake.isOpen()) {
                bytes.release();
                promise.tryFailure(new IOException("WebSocket session " + id + " is closing; no data after the close frame"));
                return;
            }
            ctx.write(new BinaryWebSocketFrame(bytes), promise);
            return;
        }
        if (msg instanceof WebSocketFrame && !(msg instanceof PongWebSocketFrame) && !(msg instanceof PingWebSocketFrame)
                && !handshake.isOpen()) {
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
        // Reactor Netty reacting to the peer's TLS close_notify (the peer's doing). Our own closes come
        // from this context and do not pass here.
        handshake.closedElsewhere(!peerClosedTls);
        ctx.close(promise);
    }

    // ------------------------------------------------------------------ inbound frames

    private void onFrame(ChannelHandlerContext ctx, WebSocketFrame frame) {
        liveness.onInboundFrame();
        if (frame instanceof CloseWebSocketFrame close) {
            int raw = close.statusCode();
            handshake.onCloseFrame(raw, raw == -1 || close.reasonText() == null ? "" : close.reasonText());
            return;
        }
        if (!handshake.isOpen()) {
            return; // closing: data after our close frame is dropped
        }
        if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            return;
        }
        if (frame instanceof PongWebSocketFrame) {
            ByteBuf c = frame.content();
            liveness.onPong(c.readableBytes() == 8 ? c.getLong(c.readerIndex()) : null);
            return;
        }
        boolean continuation = frame instanceof ContinuationWebSocketFrame;
        if (!continuation && !(frame instanceof TextWebSocketFrame) && !(frame instanceof BinaryWebSocketFrame)) {
            return;
        }
        if (byteStream) {
            if (frame instanceof TextWebSocketFrame) {
                String why = "the peer sent a text frame; the byte stream is carried in binary frames";
                refused(1003, why);
                ctx.fireExceptionCaught(new CorruptedWebSocketFrameException(WebSocketCloseStatus.INVALID_MESSAGE_TYPE, why));
                handshake.closeForPeerInput(1003, why);
                return;
            }
            liveness.onAppMessage();
            ctx.fireChannelRead(frame.content().retain());
            return;
        }
        assembler.onFrame(continuation, frame instanceof TextWebSocketFrame, frame.isFinalFragment(), frame.content(), assembled);
    }

    /** Where assembled messages and assembly violations go. */
    private final class AssemblerSink implements MessageAssembler.Sink {
        @Override
        public void message(boolean text, byte[] payload) {
            liveness.onAppMessage();
            inbound.add(MessageAccess.create(text, payload),
                    handshake.isOpen());
        }

        @Override
        public void violation(int code, String reason) {
            handshake.closeForPeerInput(code, reason);
        }
    }

    // ------------------------------------------------------------------ the end

    private void finish() {
        CloseSummary summary = handshake.finish();
        if (summary == null) {
            return;
        }
        liveness.stop();
        assembler.reset();
        releaseHeld();
        inbound.end();
        observer.closed(summary);
        closedSink.tryEmitValue(summary);
    }

    private void releaseHeld() {
        List<ChannelPromise> held = new ArrayList<>(heldPromises);
        heldPromises.clear();
        held.forEach(ChannelPromise::trySuccess);
    }

    // ------------------------------------------------------------------ the parts' view of Netty

    /** The close handshake's connection. */
    private final class NettyWire implements CloseHandshake.Wire {
        @Override
        public void writeClose(int code, String reason, CloseHandshake.WriteDone written) {
            ChannelHandlerContext c = Objects.requireNonNull(ctx);
            CloseWebSocketFrame frame = code < 0 ? new CloseWebSocketFrame(true, 0, Unpooled.EMPTY_BUFFER)
                    : new CloseWebSocketFrame(code, reason);
            c.writeAndFlush(frame).addListener(f -> written.done(f.isSuccess()));
        }

        @Override
        public void discardInbound() {
            LingerGate g = gate;
            if (g != null) {
                g.discard(settings.lingerBytes());
            }
        }

        @Override
        public void resumeReading() {
            inbound.resumeReading();
        }

        @Override
        public void closeTcp() {
            ChannelHandlerContext c = ctx;
            if (c != null) {
                c.close();
            }
        }

        @Override
        public void closing() {
            liveness.stop();
            assembler.reset();
        }
    }

    /** Liveness's view of the session. */
    private final class Probe implements Liveness.Probe {
        @Override
        public void sendPing(long pingId) {
            ChannelHandlerContext c = ctx;
            if (c != null) {
                c.writeAndFlush(new PingWebSocketFrame(Unpooled.buffer(8).writeLong(pingId)));
            }
        }

        @Override
        public void dead(String reason) {
            handshake.declareDead(reason);
        }

        @Override
        public void idle(String reason) {
            handshake.watchdogFired(reason);
        }

        @Override
        public boolean readingPaused() {
            return inbound.readingPaused();
        }
    }

    /** The inbound queue's switch on the socket. */
    private final class Reading implements InboundQueue.Reading {
        @Override
        public void pause() {
            channel.config().setAutoRead(false);
        }

        @Override
        public void resume() {
            if (channel.isActive()) {
                channel.config().setAutoRead(true);
                channel.read();
            }
        }
    }

    /** The outbound writer's view of the session. */
    private final class Writing implements OutboundWriter.Session {
        @Override
        public @Nullable ChannelHandlerContext context() {
            return ctx;
        }

        @Override
        public boolean open() {
            return handshake.isOpen();
        }

        @Override
        public String describe() {
            return handshake.state().toString();
        }

        @Override
        public void slowConsumer(String reason) {
            handshake.closeForPeerInput(1013, reason);
        }
    }

    private void onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
        } else {
            channel.eventLoop().execute(task);
        }
    }
}
