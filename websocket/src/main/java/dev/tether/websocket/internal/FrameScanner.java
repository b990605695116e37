package dev.tether.websocket.internal;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * Follows the WebSocket frame boundaries of a raw inbound byte stream (RFC 6455 section 5.2) without
 * decoding or holding payloads: for each frame it reads the 2 to 14 header bytes and skips the payload
 * by counting. The payload of a close frame (at most 125 bytes) is the one thing it copies, unmasked,
 * so a close frame can be found in a stream that is otherwise thrown away.
 *
 * <p>A length that no frame may have (the 64-bit form with its top bit set) is read as "the rest of
 * the stream": nothing after it is a frame boundary any more. Not thread-safe: one per channel, on its
 * event loop.
 */
final class FrameScanner {

    /** Told about each complete close frame. */
    interface CloseSink {
        /** @param payload the unmasked payload of a close frame (status code and reason), 0 to 125 bytes */
        void closeFrame(byte[] payload);
    }

    private static final int OPCODE_CLOSE = 8;

    private final byte[] header = new byte[14];
    private int headerLength;
    private boolean inPayload;
    private long payloadLeft;
    private int maskKey;
    private boolean masked;
    private byte @Nullable [] closePayload;
    private int closeFilled;
    private long frames;
    private long closeFrames;

    /** @return frames whose header was read so far */
    long frames() {
        return frames;
    }

    /** @return close frames completed so far */
    long closeFrames() {
        return closeFrames;
    }

    /**
     * Scans the readable bytes of a buffer, leaving its indexes as they are.
     *
     * @param in   the next bytes of the stream
     * @param sink told about each close frame completed in these bytes
     */
    void scan(ByteBuf in, CloseSink sink) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        while (i < end) {
            if (inPayload) {
                int n = (int) Math.min(payloadLeft, end - i);
                byte[] close = closePayload;
                if (close != null) {
                    in.getBytes(i, close, closeFilled, n);
                    closeFilled += n;
                }
                i += n;
                payloadLeft -= n;
                if (payloadLeft == 0) {
                    endFrame(sink);
                }
                continue;
            }
            header[headerLength++] = in.getByte(i++);
            if (headerLength >= 2 && headerLength == headerSize()) {
                startFrame(sink);
            }
        }
    }

    private int headerSize() {
        int len7 = header[1] & 0x7F;
        int extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        return 2 + extended + ((header[1] & 0x80) != 0 ? 4 : 0);
    }

    private void startFrame(CloseSink sink) {
        frames++;
        int opcode = header[0] & 0x0F;
        masked = (header[1] & 0x80) != 0;
        int len7 = header[1] & 0x7F;
        int at = 2;
        long length;
        if (len7 == 126) {
            length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
            at = 4;
        } else if (len7 == 127) {
            length = 0;
            for (int k = 2; k < 10; k++) {
                length = (length << 8) | (header[k] & 0xFF);
            }
            at = 10;
            if (length < 0) {
                length = Long.MAX_VALUE; // no frame is that long: the rest of the stream is this "frame"
            }
        } else {
            length = len7;
        }
        if (masked) {
            maskKey = ((header[at] & 0xFF) << 24) | ((header[at + 1] & 0xFF) << 16) | ((header[at + 2] & 0xFF) << 8)
                    | (header[at + 3] & 0xFF);
        }
        headerLength = 0;
        closePayload = opcode == OPCODE_CLOSE && length <= 125 ? new byte[(int) length] : null;
        closeFilled = 0;
        inPayload = true;
        payloadLeft = length;
        if (length == 0) {
            endFrame(sink);
        }
    }

    private void endFrame(CloseSink sink) {
        inPayload = false;
        byte[] close = closePayload;
        closePayload = null;
        if (close == null) {
            return;
        }
        if (masked) {
            for (int k = 0; k < close.length; k++) {
                close[k] ^= (byte) (maskKey >>> (8 * (3 - (k & 3))));
            }
        }
        closeFrames++;
        sink.closeFrame(close);
    }
}
