/** Input the command cannot work with (exit 2): the message says what is wrong and how to fix it. */
export class CliInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CliInputError";
    }
}
