package dev.tether.websocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Plain-socket HTTP for reading a refused upgrade exactly as the server sent it. */
final class RawHttp {

    private RawHttp() {
    }

    /** @return an upgrade request for {@code path} with extra header lines (each ending in CRLF) */
    static String upgrade(int port, String path, String extraHeaders) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
    }

    /** Sends the request and reads until the server closes (or 10 s pass); returns everything it answered. */
    static String exchange(int port, String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                    if (out.size() > 1 << 20) {
                        break;
                    }
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server neither answered nor closed within 10 s; got: " + out.toString(StandardCharsets.ISO_8859_1));
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * Opens a socket (from {@code localAddress}, with the given receive buffer), sends an upgrade and reads the
     * response head. Returns the socket if the answer is 101, else closes it and returns null; {@code head[0]} gets
     * the response head.
     */
    static Socket upgraded(int port, String path, String localAddress, int receiveBuffer, String[] head) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.bind(new InetSocketAddress(localAddress, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(upgrade(port, path, "").getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            h.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        head[0] = h.toString(StandardCharsets.ISO_8859_1);
        if (head[0].startsWith("HTTP/1.1 101")) {
            return s;
        }
        s.close();
        return null;
    }
}
