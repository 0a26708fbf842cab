// What is feedback and who counts as a reporter: votes, announcements, staff, bots, out-of-office
// replies, newsletters and chatter raise no item; a failing -1 is a bug; "+1" counts only on a need and
// never as a vote; a report in another language is kept with its language.
import { describe, expect, it } from 'vitest';
import { detectFeedback, LANGUAGE_REVIEW_TAG, type ConversationMessage } from '../../src/pipeline/feedback.js';
import { agreementRest, agreesWithPrevious, isBarePaste, isFailingVote, isGreeting, messageNoiseOf, threadKindOf, voteOf } from '../../src/pipeline/classify/community.js';
import { detectLanguage } from '../../src/pipeline/classify/language.js';
import { reporterVoicings, voicesNeed, type PriorityItem, type PriorityMessage } from '../../src/pipeline/priority.js';
import { isListHostAddress, maintainerEvidence, type RoleMessage } from '../../src/pipeline/people.js';
import { loadClassifierModel } from '../../src/models/classifier.js';

const model = loadClassifierModel();
const detect = (ms: ConversationMessage[]) => detectFeedback(model, ms, [], 'rules-test');

let nextId = 1;
const msg = (text: string, over: Partial<ConversationMessage> = {}): ConversationMessage => ({ id: nextId++, text, subject: null, channel: 'general', isBot: false, labels: [], ...over });

describe('threads that are not reports', () => {
  const vote = (extra: ConversationMessage[] = []) => [
    msg(
      'Hi all,\n\nplease vote on releasing foo-runner 3.8.0 from tag v3.8.0-rc1.\nThis vote will remain open for at least 72 hours.\n\n[ ] +1 release it\n[ ] 0 no opinion\n[ ] -1 do not release, because...\n\nRuth\n',
      { subject: '[VOTE] Release foo-runner 3.8.0', channel: 'dev', isStaff: true },
    ),
    msg('+1 (binding). Built from source on Debian and ran the integration suite.\n\nOskar\n', { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev', isStaff: true }),
    msg('+1 (non-binding), tested the arm64 binary on an Ampere box.\n\nJerome\n', { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev' }),
    msg('+1 (non-binding), signatures and checksums look good.\n', { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev' }),
    ...extra,
  ];

  it('a [VOTE] thread with its +1 votes is not feedback', () => {
    const d = detect(vote());
    expect(d?.isFeedback).toBe(false);
  });

  it('a -1 that reports a concrete failure is a bug of its own, raised by its author', () => {
    const minus = msg('-1 (non-binding)\n\nThe staged version still fails with a basic module setup:\n\n[ERROR] Failed to execute goal: module-info.class not found\n', {
      subject: 'Re: [VOTE] Release foo-runner 3.8.0',
      channel: 'dev',
    });
    const d = detect(vote([minus]));
    expect(d).toMatchObject({ isFeedback: true, kind: 'bug', messageId: minus.id });
    // A -1 without a failure is an opinion on the release, not a report.
    expect(detect(vote([msg('-1, I would rather wait for the next milestone.', { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev' })]))?.isFeedback).toBe(false);
  });

  it("a user's report of a concrete failure in a vote thread is a bug without a -1; staff's is not", () => {
    const report = msg("I'd like to vote but the plugin still fails on a multi-module build with an exception in the aggregator.", { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev' });
    expect(detect(vote([report]))).toMatchObject({ isFeedback: true, kind: 'bug', messageId: report.id });
    const staffNote = msg('That failure is a known JDK issue, the build fails the same way on the last release.', { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev', isStaff: true });
    expect(detect(vote([staffNote]))?.isFeedback).toBe(false);
    // A vote with a caveat stays a vote.
    expect(detect(vote([msg('+1 (non-binding), though the site build fails on my Windows box, not a blocker.', { subject: 'Re: [VOTE] Release foo-runner 3.8.0', channel: 'dev' })]))?.isFeedback).toBe(
      false,
    );
  });

  it('the +1 votes in that thread are not reporters of the -1 bug', () => {
    const people = ['ruth', 'oskar', 'jerome', 'patrick', 'dana'];
    const texts = vote([msg('-1: the staged jar still fails to start on Windows with a NullPointerException.', { subject: 'Re: [VOTE] Release foo-runner 3.8.0' })]);
    const messages: PriorityMessage[] = texts.map((m, i) => pm(m.id, i + 1, people[i]!, m.text, { subject: m.subject, segment: i < 2 ? 'staff' : 'community' }));
    const item: PriorityItem = { itemId: 1, reportMessageId: texts[4]!.id, messages };
    expect(reporterVoicings([item]).map((v) => [v.message.personName, v.role])).toEqual([['dana', 'raised']]);
  });

  it('structure decides: subjects of votes, announcements, CI, tracker notifications, newsletters, out-of-office', () => {
    expect(threadKindOf('[RESULT][VOTE] Release foo 1.2')).toBe('vote');
    expect(threadKindOf('[ANN] Apache Foo Plugin 3.0.0 Released')).toBe('announcement');
    expect(threadKindOf('Foo 2.4.1 released')).toBe('announcement');
    expect(threadKindOf('JDK 10 b29 Early Access is available on jdk.java.net')).toBe('announcement');
    expect(threadKindOf('Build failed in Jenkins: foo-master #412')).toBe('ci');
    expect(threadKindOf('[jira] [Commented] (FOO-6302) Logging is broken')).toBe('notification');
    expect(threadKindOf('[GitHub] foo pull request #139: Support modules')).toBe('notification');
    expect(threadKindOf('Resposta automática: [ANN] foo 3.8.0 released')).toBe('out-of-office');
    expect(threadKindOf('The Foo Newsletter, May 2026')).toBe('newsletter');
    expect(threadKindOf('Release of foo 3.0.0 breaks my build')).toBeNull();
    expect(threadKindOf('Build fails after upgrading to 2.4')).toBeNull();
  });

  it('a staff announcement is not feedback, and thanks or +1 on it raise nothing', () => {
    const ann = msg('Hello everyone,\n\nfoo-runner 3.8.0 is available. Highlights of this release: arm64 binaries and faster uploads.\n', {
      subject: '[ANN] foo-runner 3.8.0 released',
      isStaff: true,
    });
    expect(detect([ann])?.isFeedback).toBe(false);
    expect(detect([ann, msg('+1', { subject: 'Re: [ANN] foo-runner 3.8.0 released' }), msg('Thanks!', { subject: 'Re: [ANN] foo-runner 3.8.0 released' })])?.isFeedback).toBe(false);
    // A chat post by staff, without any tag, raises nothing either.
    expect(detect([msg('Heads-up: planned maintenance of the artifact store on Saturday from 02:00 to 03:00 UTC. Uploads will fail during that hour.', { isStaff: true })])?.isFeedback).toBe(false);
  });

  it('a user reporting a failure in reply to an announcement is feedback; staff answers never raise it', () => {
    const ann = msg('Hello everyone,\n\nfoo-runner 3.8.0 is available.\n', { subject: '[ANN] foo-runner 3.8.0 released', isStaff: true });
    const report = msg('After upgrading to 3.8.0 the runner crashes on start with "cannot open cache dir", downgrading fixes it.', { subject: 'Re: [ANN] foo-runner 3.8.0 released' });
    expect(detect([ann, report])).toMatchObject({ isFeedback: true, messageId: report.id });
    const staffFirst = msg('We are seeing reports that uploads fail since this morning, can anyone confirm?', { isStaff: true });
    const user = msg('Yes, our uploads fail with a 500 error since 9:00, every single job.');
    expect(detect([staffFirst, user])?.messageId).toBe(user.id);
  });

  it('out-of-office replies, unsubscribe requests, newsletters, greetings and bare pastes are noise by their own form', () => {
    expect(messageNoiseOf('Estou fora do escritório até 25 de maio, com acesso limitado ao email.', 'Resposta automática: foo')).toBe('out-of-office');
    expect(messageNoiseOf('I am out of the office until Monday with limited access to email.', 'Re: build broken')).toBe('out-of-office');
    expect(messageNoiseOf('Please take me off this mailing list.', 'Remove me please')).toBe('unsubscribe');
    expect(messageNoiseOf('Welcome to the May edition of The Foo Digest.\n\n* Insights is generally available', 'The Foo Digest, May 2026')).toBe('newsletter');
    expect(isGreeting('good morning all')).toBe(true);
    expect(isGreeting('brb, making pierogi for dinner')).toBe(true);
    expect(isGreeting('hi, the login page returns a 500 since the update')).toBe(false);
    expect(isBarePaste('Traceback (most recent call last):\n  File "/usr/bin/foo", line 5, in <module>\n    main()\nfoo.DistributionNotFound: The foo distribution was not found')).toBe(true);
    expect(
      isBarePaste('The importer dies on every run since 2.1:\nTraceback (most recent call last):\n  File "/usr/bin/foo", line 5\nKeyError: x\nIt worked fine on 2.0, any idea what changed?'),
    ).toBe(false);
    for (const [text, subject] of [
      ['Please take me off this mailing list.', 'Remove me please'],
      ['Welcome to the May edition of The Foo Digest. In this edition: new runners, faster caches.', 'The Foo Digest, May 2026'],
      ['good morning all', null],
    ] as const) {
      expect(detect([msg(text, { subject })])?.isFeedback).toBe(false);
    }
  });

  it('a shared file, program output and data without a word asking anything are pastes; a report around a paste is not', () => {
    expect(messageNoiseOf('@dana uploaded a file: 10 cities (https://example.slack.com/files/U1/F1/10_cities.js)', null)).toBe('paste');
    // Words that name nothing cannot tell a need; a short report names its thing.
    expect(messageNoiseOf('so....what now then?', null)).toBe('chatter');
    expect(messageNoiseOf('export is broken again', null)).toBeNull();
    expect(messageNoiseOf('¿Y ahora qué?', null)).toBeNull();
    // A link said to someone is a link: it asks and reports nothing.
    expect(messageNoiseOf('@hamza: https://example.org/free-world-cities-database', null)).toBe('paste');
    expect(messageNoiseOf('@hamza: https://example.org/cities is down again, the import fails', null)).toBeNull();
    const output =
      'Starting executor\nExecutor registered\nRunning task 13\n{"uid":"13","data":{"a":[1,2],"b":[3,4]}}\nUsing distance matrix\nRunning task 14\n{"uid":"14","data":{"a":[5,6],"b":[7,8]}}\nRunning subproblem with the following parameters: (\'13_0\', ProblemClass(module=\'problem\'), 10.0)';
    expect(isBarePaste(output)).toBe(true);
    expect(isBarePaste(`${output}\nWhy does it stop after the first subproblem?`)).toBe(false);
    expect(isBarePaste(`I get this on every run since 2.1:\n${output}`)).toBe(false);
    expect(isBarePaste('The upload fails for big files.\nIt worked in 4.1.\nAny idea?')).toBe(false);
  });

  it("a contribution (the author's own pull request or patch) and a thanks that closes a problem raise nothing", () => {
    const pr = 'Hi devs,\n\nI implemented the missing bits of module support in the compiler plugin.\nSee https://github.com/example/plugins/pull/139\n\nCheers, Chris';
    expect(messageNoiseOf(pr, 'GitHub PR 139 - module support')).toBe('contribution');
    expect(detect([msg(pr, { subject: 'GitHub PR 139 - module support' })])?.isFeedback).toBe(false);
    // A failure told around a pull request is still a report.
    expect(messageNoiseOf('I implemented the upload on top of PR #12 but it fails with a 500 on every file over 1 MB.', null)).toBeNull();
    expect(messageNoiseOf('Hello,\n\nThanks, actually turned out to be a firewall issue.\n\nThanks a lot.\nDave.', 'Re: virtual hosts')).toBe('resolved');
    expect(messageNoiseOf('Thanks, but it still fails after the restart.', null)).toBeNull();
    expect(messageNoiseOf('Thanks! Is there a way to make it work without a restart?', null)).toBeNull();
  });

  it('a reply that only advises whoever asked is an answer: it raises nothing, even with its question not stored', () => {
    const advice = 'Try the following link for basic info on using CGI with Apache httpd:\n- http://httpd.apache.org/docs/trunk/howto/cgi.html';
    expect(messageNoiseOf(advice, 'Re: [users@httpd] Received 404 not found error on existing CGI script')).toBe('answer');
    expect(detect([msg(advice, { subject: 'Re: [users@httpd] Received 404 not found error on existing CGI script' })])?.isFeedback).toBe(false);
    expect(messageNoiseOf('You can set ProxyPreserveHost On in the vhost; have a look at the mod_proxy docs.', 'Re: Host header')).toBe('answer');
    // The asker following up, a question back, or advice in a new thread (a tip, not a reply) are not answers.
    expect(messageNoiseOf('Try as I might, I still get the 404 after moving the script to cgi-bin.', 'Re: 404 on CGI script')).toBeNull();
    expect(messageNoiseOf('Check the error log: what does it say about the script?', 'Re: 404 on CGI script')).toBeNull();
    expect(messageNoiseOf('Try the following link for basic info on using CGI with Apache httpd.', 'CGI tips')).toBeNull();
  });

  it('a reply to a tracker notification whose original is not stored may raise a need; the notification itself never does', () => {
    const subject = 'Re: [jira] (SUREFIRE-1424) javax.transaction.TransactionManager not visible with Java9';
    const reply = msg(
      'Is there a way to disable this hack?\n\nI am trying to build a project which defines its own version of classes in the javax.rmi.CORBA package, and having --add-modules java.se.ee on the command line means that those classes are not found during unit tests.',
      { subject, channel: 'dev' },
    );
    expect(detect([reply])?.isFeedback).toBe(true);
    const notification = msg('Robert Scholte commented on SUREFIRE-1424:\n\nThe add-modules flag fails the build for projects that define their own javax classes.', {
      subject: subject.slice(4),
      channel: 'dev',
    });
    expect(detect([notification])?.isFeedback).toBe(false);
  });

  it('votes are read from the start of the message', () => {
    expect(voteOf('+1 (binding)')).toBe('+1');
    expect(voteOf('Hi,\n-1 (non-binding)\nfails on Windows')).toBe('-1');
    expect(voteOf('The build gives -1 as exit code')).toBeNull();
    expect(isFailingVote('-1: checksums do not match the signatures')).toBe(false);
    expect(isFailingVote('-1: the build fails on JDK 9 with an exception')).toBe(true);
  });

  it('the domain hosting a mailing list is the project: its senders are its people', () => {
    expect(isListHostAddress('ruth@foo-ci.example', 'foo-users.lists.foo-ci.example')).toBe(true);
    expect(isListHostAddress('rfscholte@apache.org', 'dev.maven.apache.org')).toBe(true);
    expect(isListHostAddress('someone@gmail.com', 'dev.maven.apache.org')).toBe(false);
    expect(isListHostAddress('x@example', 'list.example')).toBe(false);
  });

  it("a maintainer by the list's structure: list-host address, vote caller, binding or unmarked vote; never a non-binding voter", () => {
    const m = (subject: string | null, text: string, email: string | null = null, listId: string | null = null): RoleMessage => ({ subject, text, email, listId });
    expect(maintainerEvidence([m(null, '', 'rm@foo.example.org', 'dev.foo.example.org')])?.rule).toBe('list-host');
    expect(maintainerEvidence([m('[VOTE] Release Foo 1.2.0', 'Please vote.')])?.rule).toBe('vote-caller');
    expect(maintainerEvidence([m('[RESULT] [VOTE] Release Foo 1.2.0', 'The vote passed.')])?.rule).toBe('vote-caller');
    expect(maintainerEvidence([m('Re: [VOTE] Release Foo 1.2.0', '+1 (binding)')])?.rule).toBe('binding-vote');
    expect(maintainerEvidence([m('Re: [VOTE] Release Foo 1.2.0', '+1')])?.rule).toBe('binding-vote');
    expect(maintainerEvidence([m('Re: [VOTE] Release Foo 1.2.0', 'Awesome! +1\n\nAlex wrote:\n> Please vote')])?.rule).toBe('binding-vote');
    expect(maintainerEvidence([m('Re: [VOTE] Release Foo 1.2.0', '+1 (non-binding)')])).toBeNull();
    expect(maintainerEvidence([m('Re: [VOTE] Release Foo 1.2.0', 'Non binding, but +1: works for us')])).toBeNull();
    expect(maintainerEvidence([m('Re: [VOTE] Release Foo 1.2.0', 'I tried it on Windows and the tests hang, can someone check?')])).toBeNull();
    // Outside a vote thread a "+1" is agreement, not a vote.
    expect(maintainerEvidence([m('Re: Faster resolver', '+1, we need this too')])).toBeNull();
    expect(maintainerEvidence([m(null, '', 'user@gmail.example', 'dev.foo.example.org')])).toBeNull();
  });

  it('knows a maintainer who never votes by speaking for the project on its list, in more than one thread', () => {
    const onList = (subject: string, text: string) => ({ subject, text, email: null, listId: 'dev.foo.example.org' });
    const plans = onList('Foo 4.0.0', 'The past two days we have been discussing our next steps.\n\nI think we have a semi-consensus on the scope.');
    const resolver = onList('Re: Resolver branches', 'Should we just bring the resolver in-tree as modules?');
    expect(maintainerEvidence([plans, resolver])?.rule).toBe('project-voice');
    // One thread is not enough; a user asking whether they should upgrade does not speak for the project.
    expect(maintainerEvidence([plans])).toBeNull();
    expect(maintainerEvidence([onList('Upgrade?', 'Should we upgrade to 4.0 now or wait for 4.0.1?'), onList('Re: Upgrade?', 'Thanks, we will wait then.')])).toBeNull();
    // In chat (no list) the words alone never make a maintainer.
    expect(
      maintainerEvidence([
        { ...plans, listId: null },
        { ...resolver, listId: null },
      ]),
    ).toBeNull();
  });
});

function pm(messageId: number, personId: number, personName: string, text: string, over: Partial<PriorityMessage> = {}): PriorityMessage {
  return { messageId, conversationId: 1, personId, personName, org: null, segment: 'community', at: messageId * 60_000, text, channel: 'c', platform: 'mail', permalink: null, ...over };
}

describe('me-too counts only on a need', () => {
  const report = (platform: string) => pm(1, 1, 'ana', 'Exports are empty since the 4.2 update, the CSV has only headers.', { platform });

  it('"+1" as a Discord reply and on a mail list counts its author as a reporter', () => {
    for (const platform of ['discord', 'mail', 'slack', 'matrix', 'irc']) {
      const item: PriorityItem = {
        itemId: 1,
        reportMessageId: 1,
        messages: [report(platform), pm(2, 2, 'bo', '+1', { platform }), pm(3, 3, 'cy', 'same at Acme, every export is empty', { platform })],
      };
      expect(reporterVoicings([item]).map((v) => [v.message.personName, v.role])).toEqual([
        ['ana', 'raised'],
        ['bo', 'me-too'],
        ['cy', 'me-too'],
      ]);
    }
  });

  it('an agreement that names no need raises nothing; one that restates the need may', () => {
    const relayedBefore = msg('we saw something like that on Slack too, jberg has the details there', { channel: '#lumen' });
    expect(agreesWithPrevious(relayedBefore.text)).toBe(true);
    expect(agreementRest(relayedBefore.text)).toBe('jberg has the details there');
    expect(detect([relayedBefore])?.isFeedback).toBe(false);
    const restated = msg('Same here: SSO login loop with Okta on 2.4.1, we land back on the login page after the Okta redirect. Any ETA for the fix?', { channel: 'help' });
    expect(detect([restated])?.isFeedback).toBe(true);
    for (const t of ['we are seeing this too', "I've had the same thing as well", 'we ran into something similar to that on our cluster too']) expect(agreesWithPrevious(t)).toBe(true);
    expect(agreesWithPrevious('we see lots of errors in the logs')).toBe(false);
  });

  it('the forms of agreement, in English and four other languages', () => {
    for (const t of [
      'same here',
      'me too on Android',
      'yes please',
      'seconded, would save us hours',
      'ynez: same for our self-managed install',
      'no, still broken for me too',
      'Aqui também: o cache nunca é restaurado',
      'moi aussi, depuis lundi',
      'bei uns auch seit dem Update',
      'a mí también me pasa',
    ]) {
      expect(voicesNeed(t), t).toBe(true);
    }
    for (const t of ['thanks, that worked', 'try wrapping the line in single quotes', 'the key is the same on both runs']) expect(voicesNeed(t), t).toBe(false);
  });

  it('asking again keeps a need alive: a bump by the raiser or anyone is a voicing at its time', () => {
    for (const t of [
      'Hi all,\n\nchecking in on this again: we now have 30 packages and every commit builds all of them.',
      'Following up on this, is there a plan?',
      'ping on this',
      'still broken for us after the weekend',
      'five days later we still get a miss on every restore',
      'is it fixed yet? still rebuilding everything here',
      'still very interested in this',
    ])
      expect(voicesNeed(t), t).toBe(true);
    for (const t of ['I checked the logs again, nothing new', 'it is still early here', 'following the steps in the guide now', 'still, thanks for the quick answer'])
      expect(voicesNeed(t), t).toBe(false);
  });

  it('staff agreeing is never a reporter', () => {
    const item: PriorityItem = { itemId: 1, reportMessageId: 1, messages: [report('slack'), pm(2, 2, 'nadia', '+1, we see this too', { segment: 'staff' })] };
    expect(reporterVoicings([item]).map((v) => v.message.personName)).toEqual(['ana']);
  });
});

describe('other languages', () => {
  it('detects German, Spanish, Portuguese and French, and English', () => {
    expect(detectLanguage('Unsere Wochenberichte kommen seit dem Update am Montag leer an, die Datei hat nur Kopfzeilen.').lang).toBe('de');
    expect(detectLanguage('Los informes semanales llegan vacíos desde el lunes, el archivo solo tiene la cabecera.').lang).toBe('es');
    expect(detectLanguage('O relatório semanal chega vazio desde segunda-feira, o arquivo só tem o cabeçalho.').lang).toBe('pt');
    expect(detectLanguage('Nos rapports hebdomadaires arrivent vides depuis lundi, le fichier ne contient que les en-têtes.').lang).toBe('fr');
    expect(detectLanguage('Our weekly reports arrive empty since Monday, the file only has the headers.').lang).toBe('en');
    expect(detectLanguage('ok thx').lang).toBe('und');
    expect(detectLanguage("Ok, here's the current status:\n- [x] Email notification\n- [x] Fast fail\n- [ ] Build description set to the ticket id").lang).not.toBe('fr');
  });

  it('a report the classifier does not read is kept, with its language, flagged for review', () => {
    for (const [text, lang] of [
      ['Die Anmeldung mit unserem Firmenkonto klappt seit gestern nicht mehr.', 'de'],
      ['Los informes semanales llegan vacíos desde el lunes.', 'es'],
      ['O relatório semanal chega vazio desde segunda-feira.', 'pt'],
      ['Nos rapports hebdomadaires arrivent vides depuis lundi.', 'fr'],
    ] as const) {
      const d = detect([msg(text)]);
      expect(d, text).toMatchObject({ isFeedback: true, language: lang });
      expect(d!.kind).not.toBeNull();
      expect(d!.tags.map((t) => t.tag)).toEqual(expect.arrayContaining([`lang:${lang}`, LANGUAGE_REVIEW_TAG]));
    }
  });

  it('an English report carries its language and needs no review (and no tag: English is the default)', () => {
    const d = detect([msg('The CSV export is empty since the 4.2 update, only the header row is written.')]);
    expect(d).toMatchObject({ isFeedback: true, language: 'en' });
    expect(d!.tags.map((t) => t.tag).filter((t) => t === LANGUAGE_REVIEW_TAG || t.startsWith('lang:'))).toEqual([]);
  });
});
