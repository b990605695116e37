package dev.tether.samples.cli;

import picocli.CommandLine.Command;

/** {@code tether publish}: publishes numbered messages through the resilient client. */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = "Publish numbered messages through the resilient client and report the acknowledgements.",
        subcommands = {PublishMqttCommand.class})
final class PublishCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
