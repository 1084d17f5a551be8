-- What an inbound text means: the keyword rules as a table-driven test. Opt-outs (the carrier keywords,
-- the FCC's "any reasonable means" wordings of the issue and their Spanish forms), wrong number and not
-- interested, opt-in and help words, ordinary replies that use the same words, and ambiguous texts that
-- get one question. Each phrasing names the rule that must decide it; each rule's own example must too.
begin;
\ir _helpers.psql
create temp table phrasings (body text, intent text, rule text);
insert into phrasings (body, intent, rule) values
  -- opt-out: the carriers' keywords
  ('STOP', 'opt_out', 'keyword:STOP'),
  ('stop', 'opt_out', 'keyword:STOP'),
  ('  Stop!! ', 'opt_out', 'keyword:STOP'),
  ('STOP ALL', 'opt_out', 'keyword:STOPALL'),
  ('Unsubscribe', 'opt_out', 'keyword:UNSUBSCRIBE'),
  ('cancel.', 'opt_out', 'keyword:CANCEL'),
  ('End', 'opt_out', 'keyword:END'),
  ('QUIT', 'opt_out', 'keyword:QUIT'),
  ('revoke', 'opt_out', 'keyword:REVOKE'),
  ('opt-out', 'opt_out', 'keyword:OPTOUT'),
  -- opt-out: reasonable means (the issue's phrases and more)
  ('Stop. Thank you', 'opt_out', 'phrase:stop + courtesy'),
  ('please stop', 'opt_out', 'phrase:stop + courtesy'),
  ('STOP STOP STOP', 'opt_out', 'phrase:stop + courtesy'),
  ('stop now please', 'opt_out', 'phrase:stop + courtesy'),
  ('stop it', 'opt_out', 'phrase:stop it'),
  ('Just stop it already', 'opt_out', 'phrase:stop it'),
  ('Stop, who is this?', 'opt_out', 'phrase:leading stop'),
  ('I said stop', 'opt_out', 'phrase:i said stop'),
  ('I already told you to stop!', 'opt_out', 'phrase:i said stop'),
  ('I want you to stop', 'opt_out', 'phrase:i want you to stop'),
  ('quit texting me', 'opt_out', 'phrase:stop texting me'),
  ('please stop texting me', 'opt_out', 'phrase:leading stop'),
  ('Would you quit sending me messages', 'opt_out', 'phrase:stop texting me'),
  ('why won''t you stop contacting me', 'opt_out', 'phrase:stop texting me'),
  ('Don''t text me again', 'opt_out', 'phrase:do not text me'),
  ('do not contact me', 'opt_out', 'phrase:do not text me'),
  ('never message me again', 'opt_out', 'phrase:do not text me'),
  ('remove my number', 'opt_out', 'phrase:remove my number'),
  ('Please remove me', 'opt_out', 'phrase:remove my number'),
  ('delete my number from your system', 'opt_out', 'phrase:remove my number'),
  ('take me off your list', 'opt_out', 'phrase:take me off your list'),
  ('unsubscribe me please', 'opt_out', 'phrase:unsubscribe me'),
  ('how do I unsubscribe', 'opt_out', 'phrase:unsubscribe me'),
  ('opt me out', 'opt_out', 'phrase:opt out'),
  ('end texts', 'opt_out', 'phrase:end texts'),
  ('cancel all messages', 'opt_out', 'phrase:end texts'),
  ('no more texts', 'opt_out', 'phrase:no more texts'),
  ('Leave me alone', 'opt_out', 'phrase:leave me alone'),
  -- opt-out in Spanish
  ('Alto', 'opt_out', 'keyword_es:ALTO'),
  ('BASTA', 'opt_out', 'keyword_es:ALTO'),
  ('Cancelar', 'opt_out', 'keyword_es:CANCELAR'),
  ('No más', 'opt_out', 'keyword_es:CANCELAR'),
  ('No me escriban más', 'opt_out', 'phrase_es:no me escriba'),
  ('no me envíe mensajes', 'opt_out', 'phrase_es:no me escriba'),
  ('Dejen de escribirme por favor', 'opt_out', 'phrase_es:deje de escribirme'),
  ('deje de enviarme mensajes', 'opt_out', 'phrase_es:deje de escribirme'),
  ('Quítenme de su lista', 'opt_out', 'phrase_es:quiteme de su lista'),
  ('borren mi número', 'opt_out', 'phrase_es:quiteme de su lista'),
  ('Ya no quiero recibir mensajes', 'opt_out', 'phrase_es:no quiero mas mensajes'),
  ('déjenme en paz', 'opt_out', 'phrase_es:dejenme en paz'),
  ('quiero darme de baja', 'opt_out', 'phrase_es:darme de baja'),
  -- wrong number / not interested
  ('wrong number', 'wrong_number', 'phrase:wrong number'),
  ('You have the wrong number', 'wrong_number', 'phrase:wrong number'),
  ('I never filled out any form', 'wrong_number', 'phrase:wrong number'),
  ('Número equivocado', 'wrong_number', 'phrase_es:numero equivocado'),
  ('se equivocó de número', 'wrong_number', 'phrase_es:numero equivocado'),
  ('not interested', 'not_interested', 'phrase:not interested'),
  ('Thanks but I already hired someone', 'not_interested', 'phrase:not interested'),
  ('no thanks', 'not_interested', 'phrase:not interested'),
  ('No me interesa', 'not_interested', 'phrase_es:no me interesa'),
  ('ya no lo necesito, gracias', 'not_interested', 'phrase_es:no me interesa'),
  -- opt-in words and help
  ('START', 'opt_in', 'keyword:START'),
  ('Yes', 'opt_in', 'keyword:YES'),
  ('unstop', 'opt_in', 'keyword:UNSTOP'),
  ('HELP', 'help', 'keyword:HELP'),
  ('info', 'help', 'keyword:INFO'),
  ('ayuda', 'help', 'keyword:AYUDA'),
  -- not opt-outs: ordinary replies that use the words
  ('Can you stop by tomorrow at 3?', 'message', 'guard:stop by'),
  ('The water will not stop leaking, can you come today?', 'message', 'guard:stopped working'),
  ('It won''t stop, please hurry', 'message', 'guard:will not stop'),
  ('The AC stopped working last night', 'message', 'guard:stopped working'),
  ('The shut off valve is stuck', 'message', 'guard:stop words in things'),
  ('End of the week works', 'message', 'guard:stop words in things'),
  ('I cancelled my other plumber, can you come?', 'message', 'guard:cancel the old'),
  ('Yes please, tomorrow morning', 'message', null),
  ('Start as soon as you can', 'message', null),
  ('yes, 4512 Oak Hollow Dr', 'message', null),
  ('Please call me instead', 'message', null),
  ('Sí, mañana por la tarde', 'message', null),
  ('Help me with a leak under the sink', 'message', null),
  ('Can you get me a quote?', 'message', null),
  ('Don''t call me after 5pm, texting is fine', 'message', null),
  ('No me llamen, mejor escríbanme', 'message', null),
  -- ambiguous: ask once
  ('can you stop', 'ambiguous', 'ambiguous:stop word'),
  ('ok stop the truck outside?', 'ambiguous', 'ambiguous:stop word'),
  ('enough', 'ambiguous', 'ambiguous:enough'),
  ('Who is this?', 'ambiguous', 'ambiguous:who is this'),
  ('¿Quién es?', 'ambiguous', 'ambiguous:who is this'),
  ('is this spam', 'ambiguous', 'ambiguous:spam'),
  ('cancel it', 'ambiguous', 'ambiguous:cancel');

select plan((select count(*)::int from phrasings) + 8);

select is(c.intent || ' ' || coalesce(c.matched_rule, '-'), p.intent || ' ' || coalesce(p.rule, '-'), format('"%s" -> %s', p.body, p.intent))
  from phrasings p, lateral private.classify_inbound(p.body) c;

select cmp_ok((select count(*)::int from phrasings), '>=', 60, 'at least 60 phrasings are checked');
select is((select array_agg(distinct intent order by intent) from phrasings),
          array['ambiguous', 'help', 'message', 'not_interested', 'opt_in', 'opt_out', 'wrong_number'], '...covering every intent');
select is((select array_agg(r.rule order by r.rule) from private.inbound_keyword_rules r, lateral private.classify_inbound(r.example) c
            where c.matched_rule is distinct from r.rule),
          null, 'every rule decides its own example (no rule is shadowed by another)');
select is((select array_agg(r.rule order by r.rule) from private.inbound_keyword_rules r
            where r.rule not in (select rule from phrasings where rule is not null)),
          null, 'every rule is exercised by a phrasing above');
select is((select intent || ' ' || matched_rule from private.classify_inbound('whatever', 'STOP')), 'opt_out twilio:OptOutType=STOP',
          'Twilio''s OptOutType (Advanced Opt-Out acted already) decides first');
select is(private.normalize_inbound(E'  Don\u2019t   TEXT me!!  Número? '), 'dont text me numero', 'normalized: case, curly apostrophe, accents, punctuation, spaces');
select is((select carrier_keyword from private.classify_inbound('Stop')), true, 'STOP is a carrier keyword (Twilio confirms it when the business says so)');
select is((select carrier_keyword from private.classify_inbound('please stop texting me')), false, 'a phrase is not: leadloop always confirms it');

select * from finish();
rollback;
