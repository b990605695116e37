package dev.tether.websocket.internal;

import java.io.ByteArrayOutputStream;

/** Builds raw WebSocket frames, as they are on the wire, for tests below the frame decoder. */
final class WireFrames {

    private WireFrames() {
    }

    /**
     * @param fin     the FIN bit
     * @param opcode  the opcode
     * @param mask    the masking key, or null for an unmasked frame
     * @param payload the payload (masked here when a key is given)
     * @return the frame's bytes, with the shortest length encoding
     */
    static byte[] frame(boolean fin, int opcode, byte[] mask, byte[] payload) {
        return header(fin, opcode, mask, payload.length, payload);
    }

    /** A frame header that announces {@code length} payload bytes, followed by {@code payload} (may be shorter). */
    static byte[] header(boolean fin, int opcode, byte[] mask, long length, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | opcode);
        int m = mask != null ? 0x80 : 0;
        if (length < 126) {
            f.write(m | (int) length);
        } else if (length <= 0xFFFF) {
            f.write(m | 126);
            f.write((int) (length >> 8));
            f.write((int) length & 0xFF);
        } else {
            f.write(m | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) (length >> (8 * i)) & 0xFF);
            }
        }
        if (mask != null) {
            f.writeBytes(mask);
        }
        for (int i = 0; i < payload.length; i++) {
            f.write(mask != null ? payload[i] ^ mask[i & 3] : payload[i]);
        }
        return f.toByteArray();
    }

    /** A close frame payload: the code, then the reason. */
    static byte[] closePayload(int code, String reason) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(code >> 8);
        p.write(code & 0xFF);
        p.writeBytes(reason.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return p.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
