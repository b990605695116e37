package dev.tether.websocket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import org.jspecify.annotations.Nullable;

/**
 * The inbound half of a lingering close. It sits just before Netty's WebSocket frame decoder, where
 * the bytes are still raw (after TLS). While the session is open it follows the frame boundaries
 * ({@link FrameScanner}) and passes every buffer on untouched. Once our close frame is out
 * ({@link #discard(long)}), it passes nothing on any more: each buffer is scanned and released as it
 * arrives (nothing is decoded or held), the peer's close frame is picked out of the stream and handed
 * upward as a {@link CloseWebSocketFrame}, and the discarded bytes are counted against a budget.
 *
 * <p>Why: closing TCP while the peer is still sending leaves unread bytes in our receive buffer, and
 * the kernel then answers with a reset instead of a FIN. The reset overtakes our close frame, and the
 * peer sees 1006 instead of the code that says why.
 *
 * <p>{@link #install} also replaces Reactor Netty's frame decoder by one with the same settings that
 * does not close the connection on a protocol violation by itself: it reports the violation
 * (exceptionCaught) and the session closes with a lingering close instead of closing TCP at once.
 * The gate is installed when the session handler is added, right after the upgrade and before the peer
 * can have sent a frame; a peer that sent frames before it saw the 101 could leave the scanner out of
 * step, which costs at most a close frame not found while discarding (the linger bounds still end it).
 * Event loop only.
 */
final class LingerGate extends ChannelInboundHandlerAdapter {

    /** The gate's name in the pipeline. */
    static final String NAME = "tether.ws.lingerGate";

    /** Told when the discarded bytes exceed the budget. */
    interface Listener {
        /** @param discardedBytes the bytes discarded so far */
        void lingerBudgetExhausted(long discardedBytes);
    }

    private final FrameScanner scanner = new FrameScanner();
    private final Listener listener;
    private boolean discarding;
    private long budget = Long.MAX_VALUE;
    private long discarded;
    private boolean peerCloseSeen;
    private boolean budgetReported;
    private byte @Nullable [] found;

    LingerGate(Listener listener) {
        this.listener = listener;
    }

    /**
     * Puts a gate before the pipeline's WebSocket frame decoder, replacing that decoder by one that
     * reports protocol violations without closing.
     *
     * @param pipeline        an upgraded channel's pipeline
     * @param client          whether this is the client side (frames from the server are not masked)
     * @param maxFramePayload the largest frame payload accepted
     * @param listener        told when the linger budget runs out
     * @return the gate, or null when the pipeline has no WebSocket frame decoder (nothing to gate)
     */
    static @Nullable LingerGate install(ChannelPipeline pipeline, boolean client, int maxFramePayload, Listener listener) {
        ChannelHandlerContext decoder = pipeline.context(WebSocketFrameDecoder.class);
        if (decoder == null) {
            return null;
        }
        String name = decoder.name();
        WebSocketDecoderConfig config = WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(!client)
                .allowMaskMismatch(false)
                .allowExtensions(true)
                .maxFramePayloadLength(maxFramePayload)
                .closeOnProtocolViolation(false)
                .build();
        // Bytes the old decoder holds (none right after the upgrade) are handed to the new one by replace().
        pipeline.replace(name, name, new WebSocket13FrameDecoder(config));
        LingerGate gate = new LingerGate(listener);
        pipeline.addBefore(name, NAME, gate);
        return gate;
    }

    /**
     * From now on, discard every inbound byte except the peer's close frame.
     *
     * @param budget the bytes that may be discarded before the listener is told
     */
    void discard(long budget) {
        if (!discarding) {
            discarding = true;
            this.budget = budget;
        }
    }

    /** @return whether inbound bytes are discarded */
    boolean discarding() {
        return discarding;
    }

    /** @return whether a complete close frame of the peer went through the gate */
    boolean peerCloseSeen() {
        return peerCloseSeen;
    }

    /** @return bytes discarded since {@link #discard(long)} */
    long discardedBytes() {
        return discarded;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!discarding) {
            scanner.scan(in, payload -> peerCloseSeen = true);
            ctx.fireChannelRead(in);
            return;
        }
        try {
            discarded += in.readableBytes();
            if (!peerCloseSeen) {
                scanner.scan(in, payload -> {
                    if (!peerCloseSeen) {
                        peerCloseSeen = true;
                        found = payload;
                    }
                });
            }
        } finally {
            in.release();
        }
        byte[] close = found;
        if (close != null) {
            found = null;
            // Past the decoder (it passes what is not a ByteBuf) to the session, like any decoded close frame.
            ctx.fireChannelRead(new CloseWebSocketFrame(true, 0, Unpooled.wrappedBuffer(close)));
        } else if (discarded > budget && !budgetReported) {
            budgetReported = true;
            listener.lingerBudgetExhausted(discarded);
        }
    }
}
