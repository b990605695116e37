package dev.tether.websocket;

/**
 * Why a {@link WebSocketServer} drains its sessions, and the close code it sends.
 */
public enum DrainReason {
    /** The server stops: close code 1001 (going away). */
    STOP(1001, "server stopping"),
    /** The server reloads and comes back on the same port: close code 1012 (service restart). */
    RELOAD(1012, "server restarting");

    private final int closeCode;
    private final String closeReason;

    DrainReason(int closeCode, String closeReason) {
        this.closeCode = closeCode;
        this.closeReason = closeReason;
    }

    /** @return the close code sent to every session */
    public int closeCode() {
        return closeCode;
    }

    /** @return the close reason sent to every session */
    public String closeReason() {
        return closeReason;
    }
}
