package dev.tether.websocket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * Puts messages together from data frames (RFC 6455 section 5.4): a text or binary frame starts a
 * message, continuation frames add to it, the FIN bit ends it. Refuses, with the close code to use, a
 * message larger than the limit (1009, counted over all fragments, before anything beyond the limit
 * is copied), a new message before the previous one ended and a continuation without a message
 * (1002), and a text message that is not valid UTF-8 (1007, RFC 6455 section 8.1; checked on the whole
 * message, since a character may span fragments). One per session, on its loop.
 */
final class MessageAssembler {

    /** Told what the frames amount to. */
    interface Sink {
        /**
         * @param text    whether it is a text message
         * @param payload the whole message
         */
        void message(boolean text, byte[] payload);

        /**
         * @param code   the close code the violation calls for
         * @param reason what was wrong
         */
        void violation(int code, String reason);
    }

    private final int maxMessageBytes;
    private @Nullable ByteArrayOutputStream fragments;
    private boolean fragmentsText;

    /** @param maxMessageBytes the largest message, all fragments together */
    MessageAssembler(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * One data frame.
     *
     * @param continuation whether it is a continuation frame
     * @param text         for a first frame: whether the message is text
     * @param fin          its FIN bit
     * @param data         its payload (not released here)
     * @param sink         told about a complete message or a violation
     */
    void onFrame(boolean continuation, boolean text, boolean fin, ByteBuf data, Sink sink) {
        if (!continuation) {
            if (fragments != null) {
                fragments = null;
                sink.violation(1002, "new message before the previous one ended");
                return;
            }
            if (data.readableBytes() > maxMessageBytes) {
                sink.violation(1009, tooBig(data.readableBytes()));
                return;
            }
            if (fin) {
                deliver(text, ByteBufUtil.getBytes(data), sink);
                return;
            }
            fragments = new ByteArrayOutputStream(Math.max(256, data.readableBytes() * 2));
            fragmentsText = text;
        } else if (fragments == null) {
            sink.violation(1002, "continuation frame without a message");
            return;
        }
        ByteArrayOutputStream f = fragments;
        if ((long) f.size() + data.readableBytes() > maxMessageBytes) {
            fragments = null;
            sink.violation(1009, tooBig((long) f.size() + data.readableBytes()));
            return;
        }
        byte[] chunk = ByteBufUtil.getBytes(data);
        f.write(chunk, 0, chunk.length);
        if (fin) {
            fragments = null;
            deliver(fragmentsText, f.toByteArray(), sink);
        }
    }

    private static void deliver(boolean text, byte[] payload, Sink sink) {
        if (text) {
            int bad = invalidUtf8At(payload);
            if (bad >= 0) {
                sink.violation(1007, "text message of " + payload.length + " bytes is not valid UTF-8 (at byte " + bad + ")");
                return;
            }
        }
        sink.message(text, payload);
    }

    /** @return the offset of the first byte that is not valid UTF-8, or -1 if all are */
    static int invalidUtf8At(byte[] b) {
        int i = 0;
        int n = b.length;
        while (i < n) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int len;
            int min;
            if (c >= 0xC2 && c <= 0xDF) {
                len = 2;
                min = 0x80;
            } else if (c >= 0xE0 && c <= 0xEF) {
                len = 3;
                min = 0x800;
            } else if (c >= 0xF0 && c <= 0xF4) {
                len = 4;
                min = 0x10000;
            } else {
                return i;
            }
            if (i + len > n) {
                return i;
            }
            int cp = c & (0xFF >> (len + 1));
            for (int k = 1; k < len; k++) {
                int cc = b[i + k] & 0xFF;
                if ((cc & 0xC0) != 0x80) {
                    return i;
                }
                cp = (cp << 6) | (cc & 0x3F);
            }
            // Overlong forms, surrogates and code points beyond U+10FFFF are not UTF-8.
            if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                return i;
            }
            i += len;
        }
        return -1;
    }

    /** Drops a half-assembled message (the session is closing). */
    void reset() {
        fragments = null;
    }

    /** @return bytes of a message in progress */
    int pendingBytes() {
        ByteArrayOutputStream f = fragments;
        return f == null ? 0 : f.size();
    }

    private String tooBig(long size) {
        return "message of " + size + " bytes exceeds " + maxMessageBytes;
    }
}
