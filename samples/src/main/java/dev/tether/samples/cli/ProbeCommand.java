package dev.tether.samples.cli;

import picocli.CommandLine.Command;

/** {@code tether probe}: checks a real broker or WebSocket endpoint for the field reports' problems. */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Check a real MQTT broker or WebSocket endpoint: connect, disconnect in every mode, report what happened.",
        subcommands = {ProbeMqttCommand.class, ProbeWsCommand.class})
final class ProbeCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
