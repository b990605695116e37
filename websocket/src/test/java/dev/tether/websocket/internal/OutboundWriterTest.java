package dev.tether.websocket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.websocket.WebSocketMessage;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Fragmentation, streaming and the slow-consumer bound, on an in-memory channel. {@link Stall} stands
 * for a socket whose send buffer is full: it holds every write until released, so the bytes queued for
 * the peer can be counted.
 */
class OutboundWriterTest {

    /** Holds writes (and their promises) until {@link #release()}. */
    static final class Stall extends ChannelOutboundHandlerAdapter {
        final List<Object> held = new ArrayList<>();
        final List<ChannelPromise> promises = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            held.add(msg);
            promises.add(promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
        }

        void release() {
            List<Object> msgs = new ArrayList<>(held);
            List<ChannelPromise> done = new ArrayList<>(promises);
            held.clear();
            promises.clear();
            msgs.forEach(io.netty.util.ReferenceCountUtil::release);
            done.forEach(ChannelPromise::trySuccess); // may write more: into the emptied lists
        }
    }

    private final Stall stall = new Stall();
    private final EmbeddedChannel ch = new EmbeddedChannel(stall, new ChannelInboundHandlerAdapter());
    private final List<String> slow = new ArrayList<>();
    private boolean open = true;

    private OutboundWriter writer(int maxFrame, long bound) {
        ChannelHandlerContext ctx = ch.pipeline().lastContext();
        return new OutboundWriter("s-1", maxFrame, bound, Runnable::run, new OutboundWriter.Session() {
            @Override
            public @Nullable ChannelHandlerContext context() {
                return ctx;
            }

            @Override
            public boolean open() {
                return open;
            }

            @Override
            public String describe() {
                return open ? "OPEN" : "CLOSE_SENT";
            }

            @Override
            public void slowConsumer(String reason) {
                slow.add(reason);
            }
        });
    }

    private List<WebSocketFrame> written() {
        List<WebSocketFrame> frames = new ArrayList<>();
        for (Object o : stall.held) {
            frames.add((WebSocketFrame) o);
        }
        return frames;
    }

    @Test
    void aMessageBeyondTheFrameLimitIsFragmented() {
        OutboundWriter w = writer(125, Long.MAX_VALUE);
        w.send(WebSocketMessage.text("x".repeat(300))).subscribe();
        ch.runPendingTasks();
        List<WebSocketFrame> frames = written();
        assertThat(frames).hasSize(3);
        assertThat(frames.get(0)).isInstanceOf(TextWebSocketFrame.class).matches(f -> !f.isFinalFragment());
        assertThat(frames.get(1)).isInstanceOf(ContinuationWebSocketFrame.class).matches(f -> !f.isFinalFragment());
        assertThat(frames.get(2)).isInstanceOf(ContinuationWebSocketFrame.class).matches(WebSocketFrame::isFinalFragment);
        assertThat(frames.stream().mapToInt(f -> f.content().readableBytes())).containsExactly(125, 125, 50);
        stall.release();
    }

    @Test
    void aStreamCompletesOnceEveryMessageIsOnTheSocketAndAsksForAtMostItsWindow() {
        OutboundWriter w = writer(1024, Long.MAX_VALUE);
        List<String> done = new ArrayList<>();
        List<Long> requested = new ArrayList<>();
        w.send(Flux.range(0, 3 * OutboundWriter.STREAM_WINDOW + 5).doOnRequest(requested::add).map(i -> WebSocketMessage.binary(new byte[] {i.byteValue()})))
                .subscribe(null, e -> done.add(e.toString()), () -> done.add("done"));
        ch.runPendingTasks();
        assertThat(written()).hasSize(OutboundWriter.STREAM_WINDOW).allMatch(f -> f instanceof BinaryWebSocketFrame);
        assertThat(w.pendingBytes()).as("on their way, not on the socket").isEqualTo(OutboundWriter.STREAM_WINDOW);
        assertThat(done).isEmpty();
        for (int i = 0; i < 10 && done.isEmpty(); i++) {
            stall.release();
            ch.runPendingTasks();
        }
        assertThat(done).containsExactly("done");
        assertThat(requested).first().isEqualTo((long) OutboundWriter.STREAM_WINDOW);
        assertThat(w.pendingBytes()).isZero();
    }

    @Test
    void messagesQueuedBeyondTheBoundCallTheConsumerSlowAndFail() {
        OutboundWriter w = writer(1024, 2000);
        List<Throwable> errors = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            w.send(WebSocketMessage.binary(new byte[800])).subscribe(null, errors::add);
        }
        assertThat(slow).containsExactly("slow consumer: 1600 bytes queued, bound 2000");
        assertThat(errors).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("closing it with 1013"));
        stall.release();
    }

    @Test
    void nothingIsSentOnceClosing() {
        OutboundWriter w = writer(1024, Long.MAX_VALUE);
        open = false;
        List<Throwable> errors = new ArrayList<>();
        w.send(WebSocketMessage.text("late")).subscribe(null, errors::add);
        w.send(Flux.just(WebSocketMessage.text("late"))).subscribe(null, errors::add);
        assertThat(errors).hasSize(2).allSatisfy(e -> assertThat(e).hasMessageContaining("is CLOSE_SENT; message not sent"));
    }

    /** A socket that takes everything: writes complete when flushed; counts the flushes. */
    static final class Flushes extends ChannelOutboundHandlerAdapter {
        final List<ChannelPromise> unflushed = new ArrayList<>();
        final List<Integer> writesPerFlush = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            io.netty.util.ReferenceCountUtil.release(msg);
            unflushed.add(promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            List<ChannelPromise> done = new ArrayList<>(unflushed);
            unflushed.clear();
            writesPerFlush.add(done.size());
            done.forEach(ChannelPromise::trySuccess);
        }
    }

    @Test
    void aStreamedBurstGoesToTheSocketWithOneFlushAndBoundedUnflushedBytes() {
        Flushes socket = new Flushes();
        EmbeddedChannel channel = new EmbeddedChannel(socket, new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = channel.pipeline().lastContext();
        List<String> slowCalls = new ArrayList<>();
        // A bound of 4000 bytes: a burst is flushed once 1000 bytes (a quarter) are unflushed.
        // The loop runs tasks when the test says so, as an event loop runs them after the source emitted.
        OutboundWriter w = new OutboundWriter("s-2", 1024, 4000, channel.eventLoop(), new OutboundWriter.Session() {
            @Override
            public @Nullable ChannelHandlerContext context() {
                return ctx;
            }

            @Override
            public boolean open() {
                return true;
            }

            @Override
            public String describe() {
                return "OPEN";
            }

            @Override
            public void slowConsumer(String reason) {
                slowCalls.add(reason);
            }
        });
        List<String> done = new ArrayList<>();
        w.send(Flux.range(0, 8).map(i -> WebSocketMessage.binary(new byte[10]))).subscribe(null, e -> done.add(e.toString()),
                () -> done.add("done"));
        channel.runPendingTasks();
        assertThat(done).containsExactly("done");
        assertThat(socket.writesPerFlush).as("8 small messages in one burst, one flush").containsExactly(8);

        socket.writesPerFlush.clear();
        done.clear();
        w.send(Flux.range(0, 10).map(i -> WebSocketMessage.binary(new byte[300]))).subscribe(null, e -> done.add(e.toString()),
                () -> done.add("done"));
        channel.runPendingTasks();
        assertThat(done).containsExactly("done");
        assertThat(socket.writesPerFlush).as("flushed every 1000 bytes or more, then the rest").containsExactly(4, 4, 2);
        assertThat(slowCalls).isEmpty();
        assertThat(w.pendingBytes()).isZero();
        channel.finishAndReleaseAll();
    }

    @Test
    void theLibraryWritesAMessagesOwnArrayAndApplicationsGetCopiesOrAReadOnlyView() {
        byte[] mine = {1, 2, 3};
        WebSocketMessage m = WebSocketMessage.binary(mine);
        mine[0] = 9;
        assertThat(m.bytes()).containsExactly(1, 2, 3);
        m.bytes()[1] = 9;
        assertThat(m.bytes()).containsExactly(1, 2, 3);
        java.nio.ByteBuffer view = m.asReadOnlyBuffer();
        assertThat(view.isReadOnly()).isTrue();
        assertThat(view.remaining()).isEqualTo(3);
        assertThat(view.get(2)).isEqualTo((byte) 3);
        assertThat(MessageAccess.payload(m)).as("no copy inside the library").isSameAs(MessageAccess.payload(m));
        byte[] received = {4, 5};
        WebSocketMessage in = MessageAccess.create(false, received);
        assertThat(MessageAccess.payload(in)).isSameAs(received);
        assertThat(in.type()).isEqualTo(WebSocketMessage.Type.BINARY);
        assertThat(MessageAccess.create(true, new byte[] {'h', 'i'}).text()).isEqualTo("hi");
    }

    /** Passes every write on with a promise of its own ({@code unvoid()}), as a handler that adds listeners must. */
    static final class OwnPromises extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ChannelPromise own = promise.unvoid();
            own.addListener(f -> { });
            ctx.write(msg, own);
        }
    }

    @Test
    void aStreamsWritesShareOnePromiseAndAHandlerThatNeedsItsOwnGetsOne() {
        Flushes socket = new Flushes();
        EmbeddedChannel channel = new EmbeddedChannel(socket, new OwnPromises(), new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = channel.pipeline().lastContext();
        List<ChannelPromise> seen = new ArrayList<>();
        channel.pipeline().addAfter(channel.pipeline().context(OwnPromises.class).name(), "spy", new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext c, Object msg, ChannelPromise promise) {
                seen.add(promise);
                c.write(msg, promise);
            }
        });
        OutboundWriter w = openWriter(channel, ctx);
        List<String> done = new ArrayList<>();
        w.send(Flux.range(0, 100).map(i -> WebSocketMessage.binary(new byte[10]))).subscribe(null, e -> done.add(e.toString()),
                () -> done.add("done"));
        channel.runPendingTasks();
        for (int i = 0; i < 20 && done.isEmpty(); i++) {
            channel.runPendingTasks();
        }
        assertThat(done).containsExactly("done");
        assertThat(seen).hasSize(100);
        assertThat(seen.stream().distinct()).as("one promise object for every write of the stream").hasSize(1);
        assertThat(seen.get(0).isDone()).as("never done, so it can be passed again").isFalse();
        assertThat(w.pendingBytes()).isZero();
        channel.finishAndReleaseAll();
    }

    @Test
    void aFailedWriteEndsTheStreamWithItsCauseAndItsBytesAreNoLongerQueued() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            private int writes;

            @Override
            public void write(ChannelHandlerContext c, Object msg, ChannelPromise promise) {
                io.netty.util.ReferenceCountUtil.release(msg);
                if (++writes == 3) {
                    promise.tryFailure(new java.io.IOException("connection reset"));
                } else {
                    promise.trySuccess();
                }
            }
        }, new ChannelInboundHandlerAdapter());
        OutboundWriter w = openWriter(channel, channel.pipeline().lastContext());
        List<String> done = new ArrayList<>();
        List<Long> cancelled = new ArrayList<>();
        w.send(Flux.range(0, 3 * OutboundWriter.STREAM_WINDOW).map(i -> WebSocketMessage.binary(new byte[10])).doOnCancel(() -> cancelled.add(1L)))
                .subscribe(null, e -> done.add(e.getMessage()), () -> done.add("done"));
        channel.runPendingTasks();
        assertThat(done).containsExactly("connection reset");
        assertThat(cancelled).as("the source is cancelled").hasSize(1);
        assertThat(w.pendingBytes()).isZero();
        channel.finishAndReleaseAll();
    }

    private static OutboundWriter openWriter(EmbeddedChannel channel, ChannelHandlerContext ctx) {
        return new OutboundWriter("s-3", 1024, 1 << 20, channel.eventLoop(), new OutboundWriter.Session() {
            @Override
            public @Nullable ChannelHandlerContext context() {
                return ctx;
            }

            @Override
            public boolean open() {
                return true;
            }

            @Override
            public String describe() {
                return "OPEN";
            }

            @Override
            public void slowConsumer(String reason) {
                throw new AssertionError(reason);
            }
        });
    }
}
