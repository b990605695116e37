package dev.tether.websocket.internal;

import dev.tether.websocket.WebSocketMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import java.io.IOException;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.Exceptions;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.util.concurrent.Queues;

/**
 * Writes the application's messages: one frame per message up to the frame limit, fragments beyond
 * it; bytes handed to Netty and not yet on the socket are counted, and a peer that lets them grow past
 * the outbound bound is a slow consumer (the session closes with 1013). Every message is flushed; a
 * {@code FlushConsolidationHandler} below turns a burst of flushes into one syscall (it replaced a
 * hand-made flush-per-burst task here and was measured no slower). {@link #send(Publisher)} streams a
 * publisher through one queue and one drain task, with at most {@link #STREAM_WINDOW} messages
 * requested and not yet written.
 *
 * <p>Writes happen on the session's loop only.
 */
final class OutboundWriter {

    /** What the writer needs from the session. */
    interface Session {
        /** @return the handler's context, or null before it is in the pipeline */
        @Nullable ChannelHandlerContext context();

        /** @return whether messages may still be sent (no close frame sent or received) */
        boolean open();

        /** @return the session's state, named in errors */
        String describe();

        /**
         * The peer does not read: close with 1013.
         *
         * @param reason why
         */
        void slowConsumer(String reason);
    }

    /**
     * Messages of one {@link #send(Publisher)} requested and not yet written to the socket: Reactor Netty's
     * own sender asks for as many. With 32 (and 8 at a time) a streaming client made about 0.053 write calls
     * per echoed 100 B message against the plain client's 0.034, with 128 (64 at a time) 0.031. Memory is
     * bounded by the outbound byte bound, not by this: a requested message is written as soon as the loop
     * takes it from the queue.
     */
    static final int STREAM_WINDOW = 128;
    /** Written messages after which {@link #send(Publisher)} asks its source for that many more. */
    private static final int STREAM_REPLENISH = STREAM_WINDOW / 2;
    /** Unflushed bytes after which a burst of streamed messages is flushed before the next one is written. */
    static final int BURST_FLUSH_BYTES = 64 * 1024;

    private final String sessionId;
    private final int maxFramePayload;
    private final long maxOutboundBytes;
    /** A burst's unflushed bytes count as queued: at most a quarter of the bound, so a burst never trips it. */
    private final long burstFlushBytes;
    private final Executor loop;
    private final Session session;
    private volatile long pendingBytes;

    /**
     * @param sessionId        named in errors
     * @param maxFramePayload  the largest frame payload sent; longer messages are fragmented
     * @param maxOutboundBytes bytes queued for the peer beyond which it is a slow consumer
     * @param loop             the session's loop
     * @param session          the session
     */
    OutboundWriter(String sessionId, int maxFramePayload, long maxOutboundBytes, Executor loop, Session session) {
        this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
        this.maxFramePayload = maxFramePayload;
        this.maxOutboundBytes = maxOutboundBytes;
        this.burstFlushBytes = Math.max(1, Math.min(BURST_FLUSH_BYTES, maxOutboundBytes / 4));
        this.loop = Objects.requireNonNull(loop, "loop");
        this.session = Objects.requireNonNull(session, "session");
    }

    /** @return bytes written and not yet handed to the socket (readable from any thread) */
    long pendingBytes() {
        return pendingBytes;
    }

    /**
     * @param message one message
     * @return completes once it is written to the socket
     */
    Mono<Void> send(WebSocketMessage message) {
        Objects.requireNonNull(message, "message");
        return Mono.create(sink -> loop.execute(() -> {
            ChannelHandlerContext c = session.context();
            if (!session.open() || c == null) {
                sink.error(notSent());
                return;
            }
            write(c, message).addListener(f -> {
                if (f.isSuccess()) {
                    sink.success();
                } else {
                    sink.error(f.cause());
                }
            });
        }));
    }

    /**
     * @param messages messages, written in order
     * @return completes once all are written; errors with the first failed write or the source's error
     */
    Mono<Void> send(Publisher<WebSocketMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        return Mono.create(sink -> {
            StreamSender sender = new StreamSender(sink);
            sink.onDispose(sender::dispose);
            Flux.from(messages).subscribe(sender);
        });
    }

    /**
     * Writes one message on the loop.
     *
     * @param c       the handler's context
     * @param message the message
     * @return the write of its last frame
     */
    ChannelFuture write(ChannelHandlerContext c, WebSocketMessage message) {
        return write(c, message, true);
    }

    /**
     * Writes one message on the loop, flushed at once or left for the caller's flush (a burst of messages
     * goes to the socket with one flush, as one write call where it fits).
     *
     * @param c       the handler's context
     * @param message the message
     * @param flush   whether to flush it now
     * @return the write of its last frame
     */
    private ChannelFuture write(ChannelHandlerContext c, WebSocketMessage message, boolean flush) {
        // The message's own array: immutable messages need no copy to be written (wrapped, never written to).
        byte[] bytes = MessageAccess.payload(message);
        if (overBound(bytes.length)) {
            return slowConsumer(c);
        }
        boolean text = message.isText();
        if (bytes.length <= maxFramePayload) {
            ByteBuf buf = Unpooled.wrappedBuffer(bytes);
            WebSocketFrame frame = text ? new TextWebSocketFrame(buf) : new BinaryWebSocketFrame(buf);
            return counted(flush ? c.writeAndFlush(frame) : c.write(frame), bytes.length);
        }
        return writeFragments(c, bytes, text, flush);
    }

    /** @return whether a message of that many bytes would take the queued bytes past the bound */
    private boolean overBound(int bytes) {
        return pendingBytes > 0 && pendingBytes + bytes > maxOutboundBytes;
    }

    /** Reports the slow consumer; the failed future of the write that found it. */
    private ChannelFuture slowConsumer(ChannelHandlerContext c) {
        return c.newFailedFuture(slowConsumerError());
    }

    /** Reports the slow consumer; the error of the write that found it. */
    private IOException slowConsumerError() {
        // A slow consumer: closing it beats holding an ever longer queue for it.
        long queued = pendingBytes;
        session.slowConsumer("slow consumer: " + queued + " bytes queued, bound " + maxOutboundBytes);
        return new IOException("WebSocket session " + sessionId + " is not reading: " + queued
                + " bytes queued for it exceed the bound of " + maxOutboundBytes + "; closing it with 1013");
    }

    /** Writes a message longer than the frame limit as fragments, each counted; the last one's write. */
    private ChannelFuture writeFragments(ChannelHandlerContext c, byte[] bytes, boolean text, boolean flush) {
        int offset = 0;
        ChannelFuture last = null;
        while (offset < bytes.length) {
            int len = Math.min(maxFramePayload, bytes.length - offset);
            boolean fin = offset + len == bytes.length;
            ByteBuf buf = Unpooled.wrappedBuffer(bytes, offset, len);
            WebSocketFrame frame = offset == 0 ? (text ? new TextWebSocketFrame(false, 0, buf) : new BinaryWebSocketFrame(false, 0, buf))
                    : new ContinuationWebSocketFrame(fin, 0, buf);
            last = counted(fin && flush ? c.writeAndFlush(frame) : c.write(frame), len);
            offset += len;
        }
        return Objects.requireNonNull(last);
    }

    private ChannelFuture counted(ChannelFuture f, int bytes) {
        if (f.isDone()) {
            return f;
        }
        pendingBytes += bytes;
        f.addListener(x -> pendingBytes -= bytes);
        return f;
    }

    private IOException notSent() {
        return new IOException("WebSocket session " + sessionId + " is " + session.describe() + "; message not sent");
    }

    /**
     * Streams a publisher's messages onto the channel: messages cross to the event loop through one
     * single-producer queue and are written in bursts by one drain task, instead of one task and one
     * Mono per message. At most {@link #STREAM_WINDOW} messages are requested and not yet written to
     * the socket; the outbound byte bound applies to each. Every message's write completes one promise
     * object that the stream reuses ({@link WritePromise}): no promise and no listener per message. On
     * each completion the sender counts that message's bytes out of the queued bytes and, every
     * {@code STREAM_REPLENISH} messages, asks its source for as many more.
     */
    private final class StreamSender extends BaseSubscriber<WebSocketMessage> {
        private final MonoSink<Void> result;
        private final Queue<WebSocketMessage> queue = Queues.<WebSocketMessage>get(STREAM_WINDOW).get();
        private final AtomicInteger wip = new AtomicInteger();
        private final Runnable drainTask = this::drainQueue;
        private volatile boolean upstreamDone;
        private volatile @Nullable Throwable upstreamError;
        // ---- event loop only ----
        private long written;
        private long completed;
        private int toRequest;
        private boolean allQueued;
        private boolean ended;
        /** The context written to in this burst and not flushed yet. */
        private @Nullable ChannelHandlerContext burst;
        private long burstBytes;
        /** The promise of every single-frame write of this stream, made for the first one (see {@link WritePromise}). */
        private @Nullable WritePromise promise;
        /** The bytes each write not complete yet counted as queued, oldest first (a ring). */
        private int[] inFlightBytes = new int[16];
        private int inFlightHead;
        private int inFlightCount;

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
                loop.execute(drainTask);
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
            try {
                writeBurst();
            } finally {
                flushBurst();
            }
        }

        private void flushBurst() {
            ChannelHandlerContext c = burst;
            burst = null;
            burstBytes = 0;
            if (c != null) {
                c.flush();
            }
        }

        private void writeBurst() {
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
                ChannelHandlerContext c = session.context();
                if (!session.open() || c == null) {
                    end(notSent());
                    return;
                }
                written++;
                burst = c;
                burstBytes += m.size();
                writeOne(c, m);
                if (burstBytes >= burstFlushBytes) {
                    // Unflushed writes count as queued for the slow-consumer bound: keep a burst small.
                    flushBurst();
                }
            }
        }

        /**
         * Writes one message unflushed. Its bytes count as queued until its write completes; writes complete
         * in the order they were made (Netty's outbound buffer), so the counts wait in a ring, oldest first.
         */
        private void writeOne(ChannelHandlerContext c, WebSocketMessage m) {
            byte[] bytes = MessageAccess.payload(m);
            if (overBound(bytes.length)) {
                end(slowConsumerError());
                return;
            }
            WritePromise p = promise;
            if (p == null || p.channel() != c.channel()) {
                p = new WritePromise(c.channel());
                promise = p;
            }
            if (bytes.length <= maxFramePayload) {
                ByteBuf buf = Unpooled.wrappedBuffer(bytes);
                track(bytes.length);
                pendingBytes += bytes.length;
                c.write(m.isText() ? new TextWebSocketFrame(buf) : new BinaryWebSocketFrame(buf), p);
            } else {
                track(0); // each fragment counts itself
                WritePromise whole = p;
                writeFragments(c, bytes, m.isText(), false).addListener(f -> {
                    Throwable cause = f.cause();
                    if (cause == null) {
                        whole.trySuccess();
                    } else {
                        whole.tryFailure(cause);
                    }
                });
            }
        }

        private void track(int bytes) {
            if (inFlightCount == inFlightBytes.length) {
                // Grown as far as the window asks (a source that emitted beyond it: further), oldest first.
                int n = inFlightBytes.length;
                int[] sizes = new int[n * 2];
                for (int i = 0; i < n; i++) {
                    sizes[i] = inFlightBytes[(inFlightHead + i) % n];
                }
                inFlightBytes = sizes;
                inFlightHead = 0;
            }
            inFlightBytes[(inFlightHead + inFlightCount) % inFlightBytes.length] = bytes;
            inFlightCount++;
        }

        /** The oldest write not complete yet completed (its last frame's, when fragmented). */
        private void written(@Nullable Throwable cause) {
            if (inFlightCount > 0) {
                int bytes = inFlightBytes[inFlightHead];
                inFlightHead = (inFlightHead + 1) % inFlightBytes.length;
                inFlightCount--;
                if (bytes != 0) {
                    pendingBytes -= bytes;
                }
            }
            if (ended) {
                return;
            }
            if (cause != null) {
                end(cause);
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

        /**
         * One promise for every write of the stream, as Reactor Netty's own sender does: Netty completes the
         * promise of each write in the order the writes were made, and each completion here is the oldest
         * message's. It is never done (so it can be passed again) and cannot take listeners: a handler that
         * needs a promise of its own asks for {@link #unvoid()}. It is completed on the channel's loop only.
         */
        private final class WritePromise implements ChannelPromise {
            private final Channel channel;

            WritePromise(Channel channel) {
                this.channel = channel;
            }

            @Override
            public Channel channel() {
                return channel;
            }

            @Override
            public boolean trySuccess(@Nullable Void result) {
                written(null);
                return true;
            }

            @Override
            public boolean trySuccess() {
                return trySuccess(null);
            }

            @Override
            public ChannelPromise setSuccess(@Nullable Void result) {
                trySuccess(null);
                return this;
            }

            @Override
            public ChannelPromise setSuccess() {
                return setSuccess(null);
            }

            @Override
            public boolean tryFailure(Throwable cause) {
                written(cause);
                return true;
            }

            @Override
            public ChannelPromise setFailure(Throwable cause) {
                tryFailure(cause);
                return this;
            }

            @Override
            public boolean setUncancellable() {
                return true;
            }

            @Override
            public boolean isVoid() {
                return false;
            }

            @Override
            public ChannelPromise unvoid() {
                ChannelPromise own = channel.newPromise();
                own.addListener(f -> {
                    Throwable cause = f.cause();
                    if (cause == null) {
                        trySuccess();
                    } else {
                        tryFailure(cause);
                    }
                });
                return own;
            }

            @Override
            public boolean isDone() {
                return false;
            }

            @Override
            public boolean isSuccess() {
                return false;
            }

            @Override
            public boolean isCancellable() {
                return false;
            }

            @Override
            public boolean isCancelled() {
                return false;
            }

            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                return false;
            }

            @Override
            public @Nullable Throwable cause() {
                return null;
            }

            @Override
            public @Nullable Void getNow() {
                return null;
            }

            @Override
            public ChannelPromise addListener(GenericFutureListener<? extends Future<? super Void>> listener) {
                throw notForListeners();
            }

            @Override
            @SafeVarargs
            @SuppressWarnings("varargs")
            public final ChannelPromise addListeners(GenericFutureListener<? extends Future<? super Void>>... listeners) {
                throw notForListeners();
            }

            @Override
            public ChannelPromise removeListener(GenericFutureListener<? extends Future<? super Void>> listener) {
                return this;
            }

            @Override
            @SafeVarargs
            @SuppressWarnings("varargs")
            public final ChannelPromise removeListeners(GenericFutureListener<? extends Future<? super Void>>... listeners) {
                return this;
            }

            @Override
            public ChannelPromise sync() {
                throw notForWaiting();
            }

            @Override
            public ChannelPromise syncUninterruptibly() {
                throw notForWaiting();
            }

            @Override
            public ChannelPromise await() {
                throw notForWaiting();
            }

            @Override
            public ChannelPromise awaitUninterruptibly() {
                throw notForWaiting();
            }

            @Override
            public boolean await(long timeout, TimeUnit unit) {
                throw notForWaiting();
            }

            @Override
            public boolean await(long timeoutMillis) {
                throw notForWaiting();
            }

            @Override
            public boolean awaitUninterruptibly(long timeout, TimeUnit unit) {
                throw notForWaiting();
            }

            @Override
            public boolean awaitUninterruptibly(long timeoutMillis) {
                throw notForWaiting();
            }

            @Override
            public Void get() {
                throw notForWaiting();
            }

            @Override
            public Void get(long timeout, TimeUnit unit) {
                throw notForWaiting();
            }

            private UnsupportedOperationException notForListeners() {
                return new UnsupportedOperationException("the promise of a WebSocket session's streamed writes takes no "
                        + "listeners; a handler that needs one calls unvoid() and passes on the promise it returns");
            }

            private UnsupportedOperationException notForWaiting() {
                return new UnsupportedOperationException("the promise of a WebSocket session's streamed writes cannot be "
                        + "waited on; it completes on the channel's event loop");
            }

            @Override
            public String toString() {
                return "WritePromise{" + sessionId + "}";
            }
        }
    }
}
