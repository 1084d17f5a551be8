-- What an inbound text means, as data: every rule is a row (name, intent, pattern, an example it must
-- match), tried in priority order against the normalized text, and the first match decides and is
-- recorded (opt_outs.matched_rule, private.inbound_sms.matched_rule).
--
-- Opt-out follows the FCC's "any reasonable means" (47 CFR 64.1200(a)(10), in force 2025-04-11): the
-- carrier keywords as whole messages, and wordings such as "stop it", "I said stop", "quit texting me",
-- "remove my number", "end texts", in English and Spanish. "Wrong number" and "not interested" are
-- their own intents: both end the conversation and put the number on the business's do-not-text list.
-- Opt-in words (START, YES, UNSTOP) are only an opt-in for a number that is opted out; for anyone else
-- they are an ordinary reply (private.process_inbound_sms decides). Texts that might mean "stop" but
-- might not ("can you stop", "who is this?") are ambiguous: the lead is asked once to reply STOP.
-- Guards (intent message) keep "stop by at 3", "the leak won't stop" out of the ambiguous rules.

create table private.inbound_keyword_rules (
  rule text primary key check (rule ~ '^[a-z_]+:[^[:cntrl:]]{1,60}$'),
  intent text not null check (intent in ('opt_out', 'opt_in', 'help', 'wrong_number', 'not_interested', 'ambiguous', 'message')),
  priority integer not null check (priority between 1 and 1000),
  pattern text not null check (length(pattern) between 1 and 1000),
  -- The carrier's own keyword (Twilio's Advanced Opt-Out acts on it too, and confirms it itself when
  -- the business says Twilio confirms); phrases only leadloop understands, so leadloop always confirms them.
  carrier_keyword boolean not null default false,
  example text not null check (length(example) between 1 and 160)
);
comment on table private.inbound_keyword_rules is 'What an inbound text means: rules tried in priority order (lowest first) against private.normalize_inbound(body); the first match gives the intent and is recorded by name. Keywords are whole-message patterns; phrases may match anywhere. Each row carries an example it must match.';
create index inbound_keyword_rules_priority_idx on private.inbound_keyword_rules (priority, rule);
alter table private.inbound_keyword_rules enable row level security;
revoke all on private.inbound_keyword_rules from public, anon, authenticated;

insert into private.inbound_keyword_rules (rule, intent, priority, pattern, carrier_keyword, example) values
  -- The carriers' keywords, whole message (CTIA; Twilio's defaults since 2025 include REVOKE and OPTOUT).
  ('keyword:STOP', 'opt_out', 10, '^stop$', true, 'STOP'),
  ('keyword:STOPALL', 'opt_out', 10, '^stop ?all$', true, 'Stopall'),
  ('keyword:UNSUBSCRIBE', 'opt_out', 10, '^unsubscribe$', true, 'unsubscribe.'),
  ('keyword:CANCEL', 'opt_out', 10, '^cancel$', true, 'Cancel'),
  ('keyword:END', 'opt_out', 10, '^end$', true, 'END'),
  ('keyword:QUIT', 'opt_out', 10, '^quit$', true, 'quit!'),
  ('keyword:REVOKE', 'opt_out', 10, '^revoke$', true, 'REVOKE'),
  ('keyword:OPTOUT', 'opt_out', 10, '^opt ?out$', true, 'OPTOUT'),
  ('keyword:START', 'opt_in', 10, '^start$', true, 'START'),
  ('keyword:YES', 'opt_in', 10, '^yes$', true, 'Yes'),
  ('keyword:UNSTOP', 'opt_in', 10, '^unstop$', true, 'unstop'),
  ('keyword:HELP', 'help', 10, '^help$', true, 'HELP'),
  ('keyword:INFO', 'help', 10, '^info$', true, 'info'),
  ('keyword:AYUDA', 'help', 11, '^ayuda$', false, 'Ayuda'),
  -- Spanish keywords, whole message.
  ('keyword_es:ALTO', 'opt_out', 12, '^(alto|pare|parar|para ya|detener|detente|basta|basta ya|ya basta)$', false, 'ALTO'),
  ('keyword_es:CANCELAR', 'opt_out', 12, '^(cancelar|baja|darme de baja|dar de baja|no mas|no mas mensajes)$', false, 'Cancelar'),
  -- The STOP keyword with politeness or emphasis around it: "Stop. Thank you", "please stop", "STOP STOP".
  ('phrase:stop + courtesy', 'opt_out', 20,
   '^((please|pls|plz|just|ok|okay|omg|seriously|now) )*(stop|quit|unsubscribe|cancel|end)( (stop|now|please|pls|plz|thanks|thank you|thank u|thx|ty|already|asap|immediately|right now|for good|for real|ok|okay))*$',
   false, 'Stop. Thank you'),
  ('phrase:stop it', 'opt_out', 20,
   '^((please|pls|plz|just|ok|okay|omg|seriously) )*(stop|quit|end) (it|this|that|them|these|all|all of this|all of it)( (now|please|pls|already|right now|thanks|thank you))*$',
   false, 'stop it'),
  -- A message that opens with STOP and goes on ("Stop, who is this?"), unless it is about stopping something.
  ('phrase:leading stop', 'opt_out', 21,
   '^((please|pls|plz|just|ok|okay) )*stop\M(?! (by|in|over|at|the|a|an|my|our|your|that|this|sign|valve|working|leaking|running|dripping|when|light|and go))',
   false, 'Stop, who is this?'),
  ('phrase:i said stop', 'opt_out', 22, '\m(i said|i already said|i have said|ive said|i told you|i told u|told you|told u|i asked you|i asked u) (to )?(stop|quit|unsubscribe|cancel|end)\M', false, 'I said stop'),
  ('phrase:i want you to stop', 'opt_out', 22,
   '\m(i want|i need|i would like|id like|i wish|please) (you )?(to )?(stop|unsubscribe|opt out|be removed)\M(?! (by|in|over|at|the|a|my|our|leaking|working|running|it from))',
   false, 'I want you to stop'),
  ('phrase:stop texting me', 'opt_out', 23,
   '\m(stop|quit|cease|discontinue|halt) (all |the |your |these |those |this |with the |with )*(texting|texts?|txts?|txting|messaging|messages?|msgs?|sms|spamming|spam|bothering( me)?|harassing( me)?|contacting (me|us)|sending (me|us)|calling (me|us)|writing (me|us|to me))\M',
   false, 'quit texting me'),
  ('phrase:do not text me', 'opt_out', 24,
   '\m(dont|do not|never|please dont|pls dont|do not ever|dont ever) (ever )?(text|txt|message|msg|contact|sms|write|bother)( me| us| this number| again| anymore| any more|$)',
   false, 'Please don''t text me again'),
  ('phrase:remove my number', 'opt_out', 25,
   '\m(remove|delete|erase|scrub) (me|my (phone |cell |mobile )?(number|#|info|information|contact|details)|this (phone |cell )?number)\M',
   false, 'remove my number'),
  ('phrase:take me off your list', 'opt_out', 25,
   '\m(take|get|cross) (me|my number|us|this number) off( of| from)? (your|the|this|ur) (list|texts|texting list|contact list|contacts|system)\M',
   false, 'take me off your list'),
  ('phrase:unsubscribe me', 'opt_out', 26, '\m(unsubscribe|unsub)( me)?\M', false, 'Unsubscribe me from these texts'),
  ('phrase:opt out', 'opt_out', 26, '\mopt ?out\M|\mopt me out\M', false, 'Opt me out please'),
  ('phrase:end texts', 'opt_out', 27, '\m(end|cancel|stop) (all )?(the |your |these )?(texts|messages|sms|txts|alerts|notifications)\M', false, 'end texts'),
  ('phrase:no more texts', 'opt_out', 27, '\mno (more )?(texts|text messages|messages|msgs|txts|sms)( please| pls| thanks| thank you|$)', false, 'No more texts please'),
  ('phrase:leave me alone', 'opt_out', 28, '\m(leave me alone|leave me be|go away|lose my number|get lost|stop bugging me|stop harassing me)\M', false, 'Leave me alone'),
  ('phrase_es:no me escriba', 'opt_out', 30,
   '\mno me (vuelvan? a |vuelvas a )?(escriba|escriban|escribas|escribir|envie|envien|envies|enviar|mande|manden|mandes|mandar|contacte|contacten|contactes|contactar|moleste|molesten|molestes|molestar)\M|\mno (vuelvan? a |vuelvas a )?(escribirme|enviarme|mandarme|contactarme|molestarme)\M',
   false, 'No me escriban más'),
  ('phrase_es:deje de escribirme', 'opt_out', 30,
   '\m(deje|dejen|deja|dejes) de (escribir|enviar|mandar|contactar|llamar|molestar|textear)(me|nos)\M|\m(deje|dejen|deja|dejes) de (enviar|mandar)(me|nos)? (mensajes|textos)\M',
   false, 'Dejen de escribirme'),
  ('phrase_es:quiteme de su lista', 'opt_out', 30,
   '\m(quiteme|quitenme|quitame|quitar|borre|borren|borra|borrar|eliminen|elimine|elimina|saquen|saque|sacame|sacar)( me)? (mi numero|mi telefono|mi celular|de (su|la|esta|tu) lista|este numero)\M',
   false, 'Quítenme de su lista'),
  ('phrase_es:no quiero mas mensajes', 'opt_out', 30,
   '\m(ya )?no (quiero|deseo) (recibir )?(mas )?(mensajes|textos|msjs?)\M|\mya no (me )?(manden|envien|escriban|mande|envie|escriba)\M|\mno mas (mensajes|textos)\M',
   false, 'Ya no quiero recibir mensajes'),
  ('phrase_es:dejenme en paz', 'opt_out', 30, '\m(dejenme|dejame|dejeme|dejanos|dejennos) en paz\M', false, 'Déjenme en paz'),
  ('phrase_es:darme de baja', 'opt_out', 30, '\m(darme|dar|me doy|quiero darme|denme) de baja\M', false, 'Quiero darme de baja'),
  -- Not the lead the business thinks: the owner learns it, and the number is not texted again.
  ('phrase:wrong number', 'wrong_number', 40,
   '\m(wrong (number|person|#|phone|guy|girl)|you have the wrong|(this is )?not (the person|who) you (think|want|are looking for)|(i|we) (didnt|did not|never) (fill(ed)?|submit(ted)?|request(ed)?|sign(ed)? up|ask(ed)?|contact(ed)?|reach(ed)? out)|who is this i (didnt|did not|never))\M',
   false, 'wrong number'),
  ('phrase_es:numero equivocado', 'wrong_number', 40,
   '\m((numero|num|telefono) equivocad[oa]|se equivoc(o|aron|an) de (numero|persona)|equivocad[oa]s? de numero|no (llene|pedi|solicite|envie|mande) nada|no soy (esa persona|quien (usted )?busca))\M',
   false, 'Número equivocado'),
  -- No longer wants the service: the conversation ends politely and the number is not texted again.
  ('phrase:not interested', 'not_interested', 41,
   '\m(not interested|no longer interested|no interest|no longer need (it|this|help|the service|anything)|dont need (it|this|help|anything|the service)( anymore)?|do not need (it|this|help)|already (found|hired|got|booked|have) (someone|somebody|a |another|it)|never ?mind|nvm|cancel (my|the|this) (request|quote|job))\M|^no thanks?( you)?$|^no thank u$',
   false, 'Not interested'),
  ('phrase_es:no me interesa', 'not_interested', 41,
   '\m(no me interesa|ya no me interesa|no estoy interesad[oa]|ya no (lo |la )?(necesito|ocupo)|ya (encontre|contrate|consegui) (a )?(alguien|otro|otra)|olvidelo|olvidalo)\M|^no,? gracias$',
   false, 'Ya no me interesa'),
  -- Guards: everyday uses of the words the ambiguous rules look for.
  ('guard:stop by', 'message', 60, '\mstop(ped|s|ping)? (by|in|over|at|when)\M', false, 'Can you stop by tomorrow at 3?'),
  ('guard:will not stop', 'message', 60, '\m(wont|doesnt|didnt|cant|cannot|will not|does not|did not|never|wont ever) stop(ped|ping)?\M', false, 'The leak won''t stop'),
  ('guard:stopped working', 'message', 60,
   '\mstop(ped|s)? (working|leaking|running|draining|flushing|cooling|heating|dripping|the (leak|water|drip|noise|flood|flooding|dripping))\M',
   false, 'The AC stopped working'),
  ('guard:stop words in things', 'message', 60, '\m(non ?stop|stop sign|stopcock|stop valve|shut ?off|door ?stop|bus stop|one stop|end of|by the end|at the end|weekend|end table)\M', false, 'The stop valve under the sink is stuck'),
  ('guard:cancel the old', 'message', 60, '\m(cancel|cancelled|canceled) (my|the|our) (other|old|previous|last)\M', false, 'I cancelled my other plumber'),
  -- Might mean stop, might not: ask once.
  ('ambiguous:stop word', 'ambiguous', 80, '\m(stop|quit|cease|halt|unsubscribe|basta|alto)\M', false, 'can you stop'),
  ('ambiguous:enough', 'ambiguous', 80, '^(enough|thats enough|that is enough|no more|remove|delete|ya|suficiente)$', false, 'enough'),
  ('ambiguous:who is this', 'ambiguous', 80, '\m(who is this|whos this|who dis|who are you|how did you get my number|who gave you my number|quien es|quien habla|quien eres)\M', false, 'Who is this?'),
  ('ambiguous:spam', 'ambiguous', 80, '\m(spam|scam|block(ing)? (you|this|your number|this number)|report(ing)? (you|this)|bloquear)\M', false, 'Is this spam?'),
  ('ambiguous:cancel', 'ambiguous', 81, '\m(cancel|cancelar)\M', false, 'cancel it');

-- The text the rules see: lower case, accents folded (Spanish), apostrophes dropped (don't -> dont),
-- other punctuation and whitespace as single spaces, trimmed. "Stop. Thank you!" -> "stop thank you".
create or replace function private.normalize_inbound(p_body text)
returns text
language sql
immutable
set search_path = ''
as $$
  select btrim(regexp_replace(regexp_replace(regexp_replace(
           translate(lower(coalesce(p_body, '')), 'áéíóúüñàèìòù’‘´`', 'aeiouunaeiou'''''''''),
           '''', '', 'g'),
           '[^[:alnum:]#&]+', ' ', 'g'),
           ' +', ' ', 'g'))
$$;
comment on function private.normalize_inbound(text) is 'An inbound text as the keyword rules see it: lower case, accents folded, apostrophes dropped, punctuation and spaces collapsed to single spaces.';
revoke execute on function private.normalize_inbound(text) from public;

-- The intent of an inbound text and the rule that decided. Twilio's OptOutType (Advanced Opt-Out
-- acted on a keyword already) decides first; then the rules; no rule: an ordinary message.
create or replace function private.classify_inbound(p_body text, p_opt_out_type text default null)
returns table (intent text, matched_rule text, carrier_keyword boolean)
language sql
stable
set search_path = ''
as $$
  select x.intent, x.rule, x.carrier_keyword from (
    select case upper(p_opt_out_type) when 'STOP' then 'opt_out' when 'START' then 'opt_in' when 'HELP' then 'help' end as intent,
           'twilio:OptOutType=' || upper(p_opt_out_type) as rule, true as carrier_keyword, 0 as priority
     where upper(coalesce(p_opt_out_type, '')) in ('STOP', 'START', 'HELP')
    union all
    select r.intent, r.rule, r.carrier_keyword, r.priority
      from private.inbound_keyword_rules r
     where private.normalize_inbound(p_body) ~ r.pattern
    union all
    select 'message', null, false, 1001
  ) x
  order by x.priority, x.rule
  limit 1
$$;
comment on function private.classify_inbound(text, text) is 'opt_out | opt_in | help | wrong_number | not_interested | ambiguous | message, the rule that matched (keyword:STOP, phrase:stop texting me, twilio:OptOutType=STOP, ...; null for a plain message) and whether it is a carrier keyword.';
revoke execute on function private.classify_inbound(text, text) from public;
