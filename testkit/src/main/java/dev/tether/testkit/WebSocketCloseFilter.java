package dev.tether.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Follows one direction of a byte stream through {@link FaultProxy} and, when told to, drops
 * WebSocket close frames from it: everything else passes unchanged. A stream that does not start
 * with an HTTP request or response line is not WebSocket and passes untouched.
 */
final class WebSocketCloseFilter {

    private enum Phase { UNKNOWN, HTTP, FRAMES, RAW }

    private final BooleanSupplier swallow;
    private Phase phase = Phase.UNKNOWN;
    private @Nullable ByteBuf pending;

    WebSocketCloseFilter(BooleanSupplier swallow) {
        this.swallow = swallow;
    }

    /**
     * @param in    the bytes read (ownership taken)
     * @param alloc for the pending buffer
     * @return the chunks to forward, in order (ownership given)
     */
    List<ByteBuf> filter(ByteBuf in, ByteBufAllocator alloc) {
        List<ByteBuf> out = new ArrayList<>();
        if (phase == Phase.RAW) {
            out.add(in);
            return out;
        }
        if (pending == null) {
            pending = alloc.buffer();
        }
        pending.writeBytes(in);
        in.release();
        if (phase == Phase.UNKNOWN) {
            int n = Math.min(4, pending.readableBytes());
            String start = pending.toString(pending.readerIndex(), n, StandardCharsets.US_ASCII);
            boolean maybeHttp = "GET ".startsWith(start) || "HTTP".startsWith(start);
            if (maybeHttp && n < 4) {
                return out;
            }
            phase = maybeHttp ? Phase.HTTP : Phase.RAW;
            if (phase == Phase.RAW) {
                out.add(pending);
                pending = null;
                return out;
            }
        }
        if (phase == Phase.HTTP) {
            int end = indexOfHeaderEnd(pending);
            if (end < 0) {
                return out;
            }
            out.add(pending.readRetainedSlice(end - pending.readerIndex()));
            phase = Phase.FRAMES;
        }
        while (true) {
            int length = frameLength(pending);
            if (length < 0 || pending.readableBytes() < length) {
                break;
            }
            int opcode = pending.getByte(pending.readerIndex()) & 0x0F;
            ByteBuf frame = pending.readRetainedSlice(length);
            if (opcode == 0x8 && swallow.getAsBoolean()) {
                frame.release();
            } else {
                out.add(frame);
            }
        }
        pending.discardReadBytes();
        return out;
    }

    void release() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private static int indexOfHeaderEnd(ByteBuf b) {
        for (int i = b.readerIndex(); i + 3 < b.writerIndex(); i++) {
            if (b.getByte(i) == '\r' && b.getByte(i + 1) == '\n' && b.getByte(i + 2) == '\r' && b.getByte(i + 3) == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    /** @return the whole frame's length in bytes, or -1 when its header is not complete yet */
    private static int frameLength(ByteBuf b) {
        int r = b.readerIndex();
        int avail = b.readableBytes();
        if (avail < 2) {
            return -1;
        }
        int b1 = b.getByte(r + 1) & 0xFF;
        boolean masked = (b1 & 0x80) != 0;
        long len = b1 & 0x7F;
        int header = 2;
        if (len == 126) {
            if (avail < 4) {
                return -1;
            }
            len = b.getUnsignedShort(r + 2);
            header = 4;
        } else if (len == 127) {
            if (avail < 10) {
                return -1;
            }
            len = b.getLong(r + 2);
            header = 10;
        }
        long total = header + (masked ? 4 : 0) + len;
        return total > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) total;
    }
}
